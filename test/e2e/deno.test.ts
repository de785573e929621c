import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../support/env.ts";
import { freePort } from "./daemon.ts";

const ROOT = join(import.meta.dir, "../..");
const LAUNCHER = join(ROOT, "node_modules/.bin/deno");
// the first run of npm's launcher (node bin.cjs) installs the binary beside it
const denoWorks = Bun.spawnSync([LAUNCHER, "--version"]).exitCode === 0;
// the launcher does not pass signals on, so a SIGTERM would leave `minik up` running: use the binary
const DENO = existsSync(join(ROOT, "node_modules/deno/deno"))
  ? join(ROOT, "node_modules/deno/deno")
  : LAUNCHER;
const MANIFEST = readFileSync(join(ROOT, "examples/nginx-deployment.yaml"), "utf8");

/** Runs `deno run -A cmd/main.ts ARGS` from the source tree; resolves when it exits. */
async function minikUnderDeno(args: string[], env: Record<string, string>, stdin?: string) {
  const p = Bun.spawn([DENO, "run", "-A", "cmd/main.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdin: stdin ? new Blob([stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** minik from source under Deno (issue 15): the control plane serves, the CLI applies from stdin. */
describe.skipIf(!denoWorks)("minik under Deno, from source", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "minik-deno-"));
  let url = "";
  let up: ReturnType<typeof Bun.spawn> | undefined;
  let upOutput = "";
  const env = () => ({ MINIK_SERVER: url, MINIK_DATA_DIR: dataDir });

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    up = Bun.spawn(
      [
        DENO,
        "run",
        "-A",
        "cmd/main.ts",
        "up",
        "--runtime",
        "none",
        "--listen",
        `127.0.0.1:${port}`,
        "--data-dir",
        dataDir,
      ],
      { cwd: ROOT, stdout: "pipe", stderr: "pipe" },
    );
    void new Response(up.stderr as ReadableStream).text().then((t) => {
      upOutput += t;
    });
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, {
      timeoutMs: 30_000,
      what: `deno run cmd/main.ts up (${upOutput})`,
    });
  }, 40_000);
  afterAll(async () => {
    up?.kill("SIGTERM");
    const stopped = await Promise.race([
      up?.exited,
      new Promise((r) => setTimeout(() => r("timeout"), 10_000)),
    ]);
    if (stopped === "timeout") up?.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("/version names Deno as the runtime", async () => {
    const token = readFileSync(join(dataDir, "token"), "utf8").trim();
    const v = await (await fetch(`${url}/version`, { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(v.compiler).toBe("deno");
    expect(v.goVersion).toMatch(/^deno \d+\.\d+/);
    expect(v.gitVersion).toBe("v1.32.0-minik");
  });

  test("apply -f - under Deno creates the seed Deployment with its warning", async () => {
    const r = await minikUnderDeno(["apply", "-f", "-"], env(), MANIFEST);
    expect(r.stderr).toBe(
      "Warning: extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment\n",
    );
    expect(r.stdout).toBe("deployment.apps/nginx-deployment created\n");
    expect(r.code).toBe(0);
    const got = await minikUnderDeno(["get", "deployment", "nginx-deployment", "-o", "json"], env());
    const deploy = JSON.parse(got.stdout);
    expect(deploy.apiVersion).toBe("apps/v1");
    expect(deploy.spec.replicas).toBe(2);
    expect(deploy.spec.selector).toEqual({ matchLabels: { app: "nginx-server" } });
    // the controllers run under Deno too: the Deployment gets its ReplicaSet
    await waitFor(
      async () => {
        const rs = await minikUnderDeno(["get", "replicasets", "-o", "name"], env());
        return rs.stdout.includes("replicaset.apps/nginx-deployment-");
      },
      { timeoutMs: 20_000, what: "the ReplicaSet" },
    );
  }, 60_000);

  test("the crun runtime under Deno is refused with the way out", async () => {
    const port = await freePort();
    const r = await minikUnderDeno(
      ["up", "--runtime", "crun", "--listen", `127.0.0.1:${port}`, "--data-dir", join(dataDir, "crun")],
      {},
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the crun runtime needs Bun");
    expect(r.stderr).toContain("--runtime none");
  }, 30_000);
});
