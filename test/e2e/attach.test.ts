import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import {
  BINARY,
  type Daemon,
  kubectlArgv,
  nodeDataDir,
  removeDir,
  kubectl as runKubectl,
  startDaemon,
} from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e attach", "needs root and crun") ||
  skipUnless(!!testImages, "e2e attach", testImagesMissing);

/**
 * `kubectl run -i --rm` and `kubectl attach` on real containers: the container's own stdin (a
 * FIFO the runtime holds) and its output, through the compiled binary and the real kubectl.
 */
describe.skipIf(skip)("compiled binary: kubectl attach and run -i on real containers", () => {
  let d: Daemon;
  let dataDir: string;
  const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;
  const kubectl = (args: string[], stdin?: string) => runKubectl(dataDir, args, stdin);
  const podJson = async (name: string) => {
    const r = await kubectl(["get", "pod", name, "-o", "json", "--ignore-not-found"]);
    return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  };

  beforeAll(async () => {
    dataDir = nodeDataDir("attach");
    d = await startDaemon([], dataDir);
  }, 30_000);
  afterAll(async () => {
    if (d) {
      for (const p of ["once", "oncetty", "catter"])
        await d.minik(["delete", "pod", p, "--ignore-not-found", "--grace-period", "0"]);
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("kubectl run -i --rm: a shell reads its commands from kubectl's stdin, EOF ends it, the pod is deleted", async () => {
    const r = await kubectl(
      ["run", "once", "-i", "--rm", "--restart=Never", `--image=${busybox()}`, "--", "sh"],
      "echo hello from $(hostname)\necho to stderr >&2\n",
    );
    expect(r.stderr).not.toContain("error");
    expect(r.stdout).toContain("hello from once\n");
    expect(r.stdout).toContain('pod "once" deleted');
    expect(r.code).toBe(0);
    await waitFor(async () => (await podJson("once")) === undefined, { what: "pod once gone" });
  }, 60_000);

  test("kubectl run -it --rm (tty asked for, kubectl's stdin not a terminal) works the same", async () => {
    const r = await kubectl(
      ["run", "oncetty", "-it", "--rm", "--restart=Never", `--image=${busybox()}`, "--", "sh"],
      "echo tty-ok\nexit 3\n",
    );
    expect(r.stdout).toContain("tty-ok");
    expect(r.stdout).toContain('pod "oncetty" deleted');
    // the shell's own exit code comes back as kubectl's
    expect(r.code).toBe(3);
  }, 60_000);

  test("kubectl attach -i to a container with stdin: echo comes back; leaving keeps it running", async () => {
    const file = join(dataDir, "catter.yaml");
    writeFileSync(
      file,
      `apiVersion: v1
kind: Pod
metadata:
  name: catter
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: ${busybox()}
    command: ["sh", "-c", "echo started; while read line; do echo got $line; done"]
    stdin: true
`,
    );
    expect((await d.minik(["apply", "-f", file])).code).toBe(0);
    await waitFor(async () => (await podJson("catter"))?.status?.phase === "Running", {
      what: "catter running",
      timeoutMs: 30_000,
    });
    // its first line written before anyone attaches, so an attach sees only what comes after
    await waitFor(async () => (await d.minik(["logs", "catter"])).stdout.includes("started"), {
      what: "catter's first line",
    });
    for (const word of ["one", "two"]) {
      const p = Bun.spawn(kubectlArgv(dataDir, ["attach", "-i", "catter"]), {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
      p.stdin.write(`${word}\n`);
      p.stdin.flush();
      const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
      let out = "";
      await waitFor(
        async () => {
          const { value, done } = await reader.read();
          if (value) out += new TextDecoder().decode(value);
          return out.includes(`got ${word}\n`) || done;
        },
        { what: `attach echo of ${word}`, timeoutMs: 15_000 },
      );
      // output from the attach on only: not the earlier line, not the other session's
      expect(out).toBe(`got ${word}\n`);
      p.kill();
      await p.exited;
    }
    const pod = await podJson("catter");
    expect(pod.status.phase).toBe("Running");
    expect(pod.status.containerStatuses[0].restartCount).toBe(0);
  }, 60_000);
});
