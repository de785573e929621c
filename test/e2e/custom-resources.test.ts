import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../support/env.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

const CRD = join(import.meta.dir, "../../examples/crontab-crd.yaml");
const CR = join(import.meta.dir, "../../examples/crontab.yaml");

/** CRDs through the compiled binary: `minik apply` of a CRD and its objects, `minik get` with its columns. */
describe.skipIf(!existsSync(BINARY))("compiled binary: custom resources", () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon(["--runtime", "none"]);
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    removeDir(d?.dataDir);
  });

  test("a CRD and an object of it apply, list with the printer columns, and go with the CRD", async () => {
    const crd = await d.minik(["apply", "-f", CRD]);
    expect(crd).toMatchObject({
      code: 0,
      stdout: "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n",
    });
    await waitFor(async () => {
      const c = await d.getJson(["crd", "crontabs.stable.example.com"]);
      return c.status?.conditions?.some(
        (x: { type: string; status: string }) => x.type === "Established" && x.status === "True",
      );
    });
    expect((await d.minik(["apply", "-f", CR])).stdout).toBe(
      "crontab.stable.example.com/my-new-cron-object created\n",
    );
    const table = await d.minik(["get", "crontabs"]);
    expect(table.stdout).toMatch(
      /^NAME\s+SPEC\s+REPLICAS\s+AGE\nmy-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/,
    );
    expect((await d.minik(["get", "ct", "-o", "name"])).stdout).toBe(
      "crontab.stable.example.com/my-new-cron-object\n",
    );

    const badFile = join(d.dataDir, "bad-crontab.yaml");
    writeFileSync(
      badFile,
      "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: bad}\nspec: {replicas: 3}\n",
    );
    const bad = await d.minik(["apply", "-f", badFile]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("spec.cronSpec: Required value");

    expect((await d.minik(["delete", "crd", "crontabs.stable.example.com"])).code).toBe(0);
    expect((await d.minik(["get", "crd", "-o", "name"])).stdout).toBe("");
  }, 30_000);
});
