import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e node hardening", "needs root and crun") ||
  skipUnless(!!testImages, "e2e node hardening", testImagesMissing);

interface ContainerStatusJson {
  containerID?: string;
  restartCount: number;
  state: { waiting?: { reason: string; message?: string }; running?: object; terminated?: object };
  lastState?: { terminated?: { containerID?: string } };
}
interface PodJson {
  metadata: { name: string; uid: string };
  status: { phase: string; containerStatuses?: ContainerStatusJson[] };
}

const LINES = 700_000; // busybox `seq`: ~4.8 MB, four rotations at 1 MiB

/**
 * Issue 14's node half through the compiled binary on real containers: runAsNonRoot checked
 * against the image's user (never started as root), and container logs rotated by size while a
 * full-speed writer runs — `logs -f` sees every line once and in order, `--previous` reads the
 * last run, and at most containerLogMaxFiles files are kept.
 */
describe.skipIf(skip)("compiled binary: node hardening", () => {
  let d: Daemon;
  let dataDir: string;
  const image = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;
  const pod = async (name: string) => (await d.getJson(["pod", name])) as PodJson;
  const podManifest = (name: string, spec: Record<string, unknown>, container: Record<string, unknown>) =>
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 0,
        ...spec,
        containers: [{ name: "app", image: image(), ...container }],
      },
    });

  beforeAll(async () => {
    dataDir = nodeDataDir("nodehard");
    d = await startDaemon(["--container-log-max-size", "1Mi"], dataDir);
  }, 30_000);
  afterAll(async () => {
    if (d) {
      for (const name of ["as-root", "as-1000", "chatty"])
        await d.minik(["delete", "pod", name, "--ignore-not-found", "--grace-period", "0"]);
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("runAsNonRoot: a root image is refused with the kubelet's message; runAsUser 1000 runs as 1000", async () => {
    await d.apply(
      "as-root",
      podManifest("as-root", { securityContext: { runAsNonRoot: true } }, { command: ["sleep", "3600"] }),
    );
    await d.apply(
      "as-1000",
      podManifest(
        "as-1000",
        { restartPolicy: "Never", securityContext: { runAsNonRoot: true, runAsUser: 1000 } },
        { command: ["id", "-u"] },
      ),
    );
    const refused = await waitFor(
      async () => {
        const p = await pod("as-root");
        return p.status.containerStatuses?.[0]?.state.waiting?.reason === "CreateContainerConfigError"
          ? p
          : undefined;
      },
      { timeoutMs: 60_000, what: "as-root refused" },
    );
    const status = refused.status.containerStatuses![0]!;
    expect(status.state.waiting!.message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "as-root_default(${refused.metadata.uid})", container: app)`,
    );
    expect(status.containerID).toBeUndefined(); // nothing was created, so nothing ran as root
    await waitFor(async () => (await pod("as-1000")).status.phase === "Succeeded", {
      timeoutMs: 60_000,
      what: "as-1000 done",
    });
    expect((await d.minik(["logs", "as-1000"])).stdout).toBe("1000\n");
  }, 150_000);

  test("logs -f across rotations at full speed: every line once, in order; --previous; five files kept", async () => {
    // the writer starts once the follower is there; it fails so the pod restarts (for --previous)
    await d.apply(
      "chatty",
      podManifest(
        "chatty",
        { restartPolicy: "OnFailure" },
        { command: ["sh", "-c", `sleep 4; seq 1 ${LINES}; exit 1`] },
      ),
    );
    await waitFor(async () => (await pod("chatty")).status.phase === "Running", {
      timeoutMs: 60_000,
      what: "chatty running",
    });
    const followed = await d.minik(["logs", "-f", "chatty"]);
    expect(followed.code).toBe(0);
    const want = Array.from({ length: LINES }, (_, i) => `${i + 1}\n`).join("");
    expect(followed.stdout.length).toBe(want.length);
    expect(followed.stdout === want).toBe(true);

    const restarted = await waitFor(
      async () => {
        const s = (await pod("chatty")).status.containerStatuses?.[0];
        return s && s.restartCount >= 1 && s.lastState?.terminated?.containerID ? s : undefined;
      },
      { timeoutMs: 60_000, what: "chatty restarted" },
    );
    // --previous is the last run's live file: its last lines, whole, ending with the last number
    const previous = (await d.minik(["logs", "chatty", "--previous"])).stdout;
    expect(previous.length).toBeGreaterThan(0);
    expect(want.endsWith(previous)).toBe(true);
    expect(previous.startsWith("\n")).toBe(false);
    const id = restarted.lastState!.terminated!.containerID!.replace(/^crun:\/\//, "");
    const files = readdirSync(join(dataDir, "containers", id)).filter((f) =>
      /^container\.log(\.\d+)?$/.test(f),
    );
    expect(files.sort()).toEqual([
      "container.log",
      "container.log.1",
      "container.log.2",
      "container.log.3",
      "container.log.4",
    ]);
  }, 180_000);
});
