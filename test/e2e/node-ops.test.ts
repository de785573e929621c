import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, kubectl as kubectlOn, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e node ops", "needs root and crun") ||
  skipUnless(!!testImages, "e2e node ops", testImagesMissing);

const pod = (name: string, image: string, command: string[], extra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: ${image}
    command: ${JSON.stringify(command)}
${extra}`;

/**
 * Issue 3's day-to-day node operations through the CLI: logs -f, exec -it, image load of both
 * archive formats, image rm refused while in use, crash loops, OOM kills.
 */
describe.skipIf(skip)("compiled binary: logs, exec, images, crashes", () => {
  let d: Daemon;
  let dataDir: string;
  const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;
  const apply = async (name: string, yaml: string) => {
    const file = join(dataDir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const r = await d.minik(["apply", "-f", file]);
    expect(r.stderr).toBe("");
  };
  const getPod = async (name: string) =>
    JSON.parse((await d.minik(["get", "pod", name, "-o", "json"])).stdout);

  beforeAll(async () => {
    dataDir = nodeDataDir("ops");
    d = await startDaemon([], dataDir);
  }, 30_000);
  afterAll(async () => {
    if (d) {
      for (const p of ["ticker", "shell", "crasher", "hog", "loaded"]) {
        await d.minik(["delete", "pod", p, "--ignore-not-found", "--grace-period", "0"]);
      }
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("logs -f follows a container's output as it is written", async () => {
    await apply(
      "ticker",
      pod("ticker", busybox(), ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]),
    );
    await waitFor(async () => (await getPod("ticker")).status.phase === "Running", {
      timeoutMs: 30_000,
      what: "ticker Running",
    });
    const p = Bun.spawn([BINARY, "logs", "-f", "ticker"], { env: d.env, stdout: "pipe" });
    const reader = p.stdout.getReader();
    let seen = "";
    await waitFor(
      async () => {
        const { value } = await reader.read();
        seen += new TextDecoder().decode(value);
        return /tick (1[0-9]|[2-9][0-9])/.test(seen);
      },
      { timeoutMs: 15_000, what: "ten ticks through logs -f" },
    );
    p.kill();
    expect(seen).toContain("tick 0\ntick 1\n");
    const tail = await d.minik(["logs", "ticker", "--tail", "2"]);
    expect(tail.stdout.trim().split("\n")).toHaveLength(2);
  }, 60_000);

  test("exec runs a command, passes its exit code, and -it gives an interactive shell", async () => {
    await apply("shell", pod("shell", busybox(), ["sleep", "3600"]));
    await waitFor(async () => (await getPod("shell")).status.phase === "Running", {
      timeoutMs: 30_000,
      what: "shell Running",
    });
    const plain = await d.minik(["exec", "shell", "--", "sh", "-c", "hostname; exit 3"]);
    expect(plain.stdout.trim()).toBe("shell");
    expect(plain.code).toBe(3);

    let screen = "";
    const p = Bun.spawn([BINARY, "exec", "-it", "shell", "--", "sh"], {
      env: d.env,
      terminal: { cols: 80, rows: 24, data: (_t, chunk) => (screen += new TextDecoder().decode(chunk)) },
    });
    await waitFor(() => screen.includes("#"), { what: "a shell prompt" });
    p.terminal!.write("tty; echo done-$((40+2))\n");
    await waitFor(() => screen.includes("done-42"), { what: "the command's output" });
    expect(screen).toContain("/dev/pts/");
    p.terminal!.write("exit\n");
    expect(await p.exited).toBe(0);
  }, 60_000);

  test("image load takes oci-archive and docker-archive; rm is refused while a container uses the image", async () => {
    const { oci, docker } = testImages!.archives;
    for (const a of [oci, docker]) {
      const r = await d.minik(["image", "load", a.path]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`Loaded image: ${a.name}`);
    }
    const ls = await d.minik(["image", "ls"]);
    expect(ls.stdout).toContain(oci.name);
    expect(ls.stdout).toContain(docker.name);

    await apply("loaded", pod("loaded", oci.name, ["sleep", "3600"], "    imagePullPolicy: Never\n"));
    await waitFor(async () => (await getPod("loaded")).status.phase === "Running", {
      timeoutMs: 30_000,
      what: "pod from a loaded image",
    });
    const rm = await d.minik(["image", "rm", oci.name]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/in use/);
  }, 60_000);

  test("image pull from a basic-auth registry (credentials from registries.yaml); a missing image is a clear error", async () => {
    const basic = testImages!.registries.basic.host;
    const ok = await d.minik(["image", "pull", `${basic}/minik-test/httpd:2`]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toMatch(/minik-test\/httpd:2 pulled \(sha256:[0-9a-f]{64}\)/);
    expect((await d.minik(["image", "ls"])).stdout).toContain("minik-test/httpd:2");
    const missing = await d.minik(["image", "pull", `${basic}/minik-test/nope:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope:1/);
  }, 60_000);

  test("a crashing container restarts with back-off into CrashLoopBackOff", async () => {
    await apply(
      "crasher",
      pod("crasher", `${testImages!.registries.plain.host}/minik-test/crasher:1`, ["sh", "-c", "exit 1"]),
    );
    const p = await waitFor(
      async () => {
        const cur = await getPod("crasher");
        const st = cur.status.containerStatuses?.[0];
        return st?.restartCount >= 1 && st.state?.waiting?.reason === "CrashLoopBackOff" ? cur : undefined;
      },
      { timeoutMs: 30_000, what: "CrashLoopBackOff" },
    );
    expect(p.status.containerStatuses[0].lastState.terminated.exitCode).toBe(1);
    const table = await d.minik(["get", "pod", "crasher"]);
    expect(table.stdout).toMatch(/crasher\s+0\/1\s+(CrashLoopBackOff|Error)\s+[1-9]/);
  }, 60_000);

  test("exceeding the memory limit is reported as OOMKilled", async () => {
    await apply(
      "hog",
      pod(
        "hog",
        busybox(),
        ["sh", "-c", "sleep 1; a=$(head -c 64000000 /dev/zero | tr '\\0' x); sleep 3600"],
        "    resources:\n      limits:\n        memory: 16Mi\n  restartPolicy: Never\n",
      ),
    );
    const p = await waitFor(
      async () => {
        const cur = await getPod("hog");
        return cur.status.containerStatuses?.[0]?.state?.terminated ? cur : undefined;
      },
      { timeoutMs: 30_000, what: "hog terminated" },
    );
    expect(p.status.containerStatuses[0].state.terminated.reason).toBe("OOMKilled");
    expect(p.status.phase).toBe("Failed");
  }, 60_000);

  test("the real kubectl: logs, exec, cp and top pods against running containers", async () => {
    const kubectl = (...args: string[]) => kubectlOn(dataDir, args);
    const logs = await kubectl("logs", "ticker", "--tail", "3");
    expect(logs.code).toBe(0);
    expect(logs.stdout.trim().split("\n")).toHaveLength(3);
    expect(logs.stdout).toMatch(/^tick \d+$/m);

    const exec = await kubectl("exec", "shell", "--", "sh", "-c", "echo from-$(hostname)");
    expect(exec.stdout.trim()).toBe("from-shell");

    const local = join(dataDir, "copied.txt");
    writeFileSync(local, "minik cp works\n");
    const cp = await kubectl("cp", local, "shell:/tmp/copied.txt");
    expect(cp.stderr).toBe("");
    expect(cp.code).toBe(0);
    expect((await kubectl("exec", "shell", "--", "cat", "/tmp/copied.txt")).stdout).toBe("minik cp works\n");

    const top = await waitFor(
      async () => {
        const r = await kubectl("top", "pods");
        return r.code === 0 && /^ticker\s+\d+m\s+\d+Mi/m.test(r.stdout) ? r : undefined;
      },
      { timeoutMs: 20_000, what: "kubectl top pods" },
    );
    expect(top.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  }, 60_000);
});
