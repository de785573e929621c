import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

const MANIFEST = readFileSync(join(import.meta.dir, "../../examples/nginx-deployment.yaml"), "utf8");
const KUBECTL = "/usr/bin/kubectl";
const WARNING =
  "Warning: extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment\n";

async function kubectl(kubeconfig: string, args: string[]) {
  const p = Bun.spawn([KUBECTL, "--kubeconfig", kubeconfig, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** Issue 15's CLI papercuts, through the compiled binary: `-f -`, warnings, kubeconfig, the TLS port. */
describe.skipIf(!existsSync(BINARY))("compiled binary: CLI papercuts", () => {
  let d: Daemon | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    d = await startDaemon(["--runtime", "none"]);
    dataDir = d.dataDir;
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    removeDir(dataDir);
  });

  test("apply -f - reads stdin and prints the server's warning on stderr as kubectl does", async () => {
    const r = await d!.minik(["apply", "-f", "-"], MANIFEST);
    expect(r.stderr).toBe(WARNING);
    expect(r.stdout).toBe("deployment.apps/nginx-deployment created\n");
    expect(r.code).toBe(0);
    const again = await d!.minik(["apply", "--filename", "-"], MANIFEST);
    // (a legacy manifest re-applies as "configured": its apiVersion differs from the stored apps/v1)
    expect(again.stdout).toMatch(/^deployment\.apps\/nginx-deployment (configured|unchanged)\n$/);
    expect(again.code).toBe(0);
  });

  test("delete -f - reads stdin", async () => {
    const r = await d!.minik(["delete", "-f", "-"], MANIFEST);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("nginx-deployment");
    expect(r.code).toBe(0);
    const gone = await d!.minik(["get", "deployment", "nginx-deployment"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("NotFound");
  });

  test.skipIf(!existsSync(KUBECTL))(
    "kubeconfig with -s URL points kubectl at the TLS listener, whose port survives a restart",
    async () => {
      const r = await d!.minik(["-s", d!.url, "kubeconfig"]);
      expect(r.code).toBe(0);
      const cfg = parse(r.stdout);
      const server: string = cfg.clusters[0].cluster.server;
      expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cfg.clusters[0].cluster["certificate-authority-data"]).toBeTruthy();
      expect(cfg.users[0].user.token).toBe(readFileSync(join(dataDir!, "token"), "utf8").trim());
      const file = join(dataDir!, "from-cli.kubeconfig");
      writeFileSync(file, r.stdout);
      const before = await kubectl(file, ["get", "namespace", "default", "-o", "name"]);
      expect(before.stdout).toBe("namespace/default\n");

      // a new start with another --listen port and no --listen-tls keeps the TLS port
      await d!.stop();
      d = await startDaemon(["--runtime", "none"], dataDir);
      const restarted = parse((await d.minik(["-s", d.url, "kubeconfig"])).stdout);
      expect(restarted.clusters[0].cluster.server).toBe(server);
      const after = await kubectl(file, ["get", "namespace", "default", "-o", "name"]);
      expect(after.stderr).toBe("");
      expect(after.stdout).toBe("namespace/default\n");
    },
    60_000,
  );
});
