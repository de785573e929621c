import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, outputReader, startCluster } from "./harness.ts";

const CRD = readFileSync(join(import.meta.dir, "../../examples/crontab-crd.yaml"), "utf8");

const cron = (name: string, spec: string) => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
${spec}
`;

let c: Cluster;

describe.skipIf(skipUnless(hasKubectl, "kubectl custom resources", "needs /usr/bin/kubectl"))(
  "kubectl and CustomResourceDefinitions",
  () => {
    beforeAll(async () => {
      c = await startCluster({ kubelet: false });
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("a CRD is applied and becomes Established", async () => {
      const res = await c.kubectl(["apply", "-f", c.write("crd.yaml", CRD)]);
      expect(res).toMatchObject({
        code: 0,
        stdout: "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created\n",
      });
      const wait = await c.kubectl([
        "wait",
        "--for=condition=Established",
        "crd/crontabs.stable.example.com",
      ]);
      expect(wait.stdout).toBe(
        "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com condition met\n",
      );
      expect((await c.kubectl(["get", "crd"])).stdout).toMatch(
        /^NAME\s+CREATED AT\ncrontabs\.stable\.example\.com\s+\d{4}-/,
      );
    });

    test("objects are created, defaulted, pruned and listed with the printer columns", async () => {
      const ok = await c.kubectl([
        "apply",
        "-f",
        c.write("ok.yaml", cron("my-cron", "  cronSpec: '* * * * */5'\n  image: my-cron")),
      ]);
      expect(ok).toMatchObject({ code: 0, stdout: "crontab.stable.example.com/my-cron created\n" });
      const get = await c.kubectl(["get", "crontabs"]);
      expect(get.stdout).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE\nmy-cron\s+\* \* \* \* \*\/5\s+1\s+\d+s\n$/);
      expect((await c.kubectl(["get", "ct", "-o", "name"])).stdout).toBe(
        "crontab.stable.example.com/my-cron\n",
      );
      expect((await c.kubectl(["get", "all", "-o", "name"])).stdout).toContain(
        "crontab.stable.example.com/my-cron",
      );
      // the other served version shows the same object under its apiVersion
      const v1beta1 = JSON.parse(
        (await c.kubectl(["get", "crontabs.v1beta1.stable.example.com", "my-cron", "-o", "json"])).stdout,
      );
      expect(v1beta1.apiVersion).toBe("stable.example.com/v1beta1");

      const pruned = await c.kubectl([
        "apply",
        "--validate=false",
        "-f",
        c.write("pruned.yaml", cron("pruned", "  cronSpec: '* * * * *'\n  foo: bar")),
      ]);
      expect(pruned.code).toBe(0);
      const obj = JSON.parse((await c.kubectl(["get", "ct", "pruned", "-o", "json"])).stdout);
      expect(obj.spec).toEqual({ cronSpec: "* * * * *", replicas: 1 });
    });

    test("schema violations are 422 naming the field; unknown fields fail strict validation", async () => {
      const bad = await c.kubectl([
        "apply",
        "-f",
        c.write("bad.yaml", cron("bad", "  cronSpec: 5\n  replicas: 20")),
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('The CronTab "bad" is invalid');
      expect(bad.stderr).toContain(
        "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10",
      );
      expect(bad.stderr).toContain(
        'spec.cronSpec: Invalid value: "integer": spec.cronSpec in body must be of type string',
      );
      const unknown = await c.kubectl([
        "apply",
        "-f",
        c.write("unknown.yaml", cron("unknown", "  cronSpec: x\n  foo: 1")),
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('unknown field "spec.foo"');
      expect((await c.kubectl(["get", "ct", "bad"])).code).toBe(1);
    });

    test("kubectl explain reads the published schema", async () => {
      const res = await c.kubectl(["explain", "crontab.spec"]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("GROUP:      stable.example.com");
      expect(res.stdout).toContain("What the cron job runs and when.");
      expect(res.stdout).toMatch(/cronSpec\s+<string> -required-/);
    });

    test("scale and status subresources", async () => {
      expect((await c.kubectl(["scale", "crontab/my-cron", "--replicas=3"])).stdout).toBe(
        "crontab.stable.example.com/my-cron scaled\n",
      );
      const status = await c.kubectl([
        "patch",
        "crontab/my-cron",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"replicas":3,"labelSelector":"app=cron"}}',
      ]);
      expect(status.code).toBe(0);
      const obj = JSON.parse((await c.kubectl(["get", "ct", "my-cron", "-o", "json"])).stdout);
      expect(obj.spec.replicas).toBe(3);
      expect(obj.status).toEqual({ replicas: 3, labelSelector: "app=cron" });
    });

    test("kubectl get -w streams custom resources with their columns", async () => {
      const watch = c.spawn(["get", "crontabs", "-w"]);
      const out = outputReader(watch.stdout as ReadableStream<Uint8Array>);
      await out.until("my-cron");
      await c.kubectl(["apply", "-f", c.write("w.yaml", cron("watched", "  cronSpec: '0 * * * *'"))]);
      await out.until(/watched\s+0 \* \* \* \*\s+1\s+\d+s/);
      watch.kill();
      expect(out.text()).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
      expect(out.text()).toMatch(/watched\s+0 \* \* \* \*\s+1\s+\d+s/);
    });

    test("a CRD named other than <plural>.<group> is refused", async () => {
      const res = await c.kubectl([
        "apply",
        "-f",
        c.write(
          "badcrd.yaml",
          CRD.replace("name: crontabs.stable.example.com", "name: crons.stable.example.com"),
        ),
      ]);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        'metadata.name: Invalid value: "crons.stable.example.com": must be spec.names.plural+"."+spec.group',
      );
    });

    test("deleting the CRD deletes its objects", async () => {
      const res = await c.kubectl(["delete", "crd", "crontabs.stable.example.com"]);
      expect(res.stdout).toBe(
        'customresourcedefinition.apiextensions.k8s.io "crontabs.stable.example.com" deleted\n',
      );
      await waitFor(
        async () =>
          (await c.client.list("crontabs.stable.example.com").catch(() => ({ items: [] }))).items.length ===
          0,
      );
      expect((await c.kubectl(["get", "crd", "-o", "name"])).stdout).toBe("");
    });
  },
);
