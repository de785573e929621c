import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

/**
 * What the kubelet reports when a container's process cannot start, and how stops and reboots
 * look — on the fake runtime, which does these the way CrunRuntime records them.
 */
let h: Harness;
const MISSING = "/no/such/binary";
const WHY = `failed to start container process: executable file \`${MISSING}\` not found`;

beforeEach(async () => {
  h = await startHarness();
  h.host.program = (config) => {
    if (config.command?.[0] === MISSING) return { startError: WHY };
    if (config.command?.[0] === "ignore-sigterm") return { ignoresSigterm: true };
    return undefined;
  };
});
afterEach(async () => {
  await h.close();
});

const cs = (p: Pod) => p.status?.containerStatuses?.[0] as ContainerStatus;

test("a missing binary: terminated StartError 128, restarts counted, back-off, CrashLoopBackOff", async () => {
  await h.createPod("nobin", { containers: [{ name: "app", image: "busybox:1.36", command: [MISSING] }] });
  // the first restart is immediate, the next waits the 10 s back-off
  let pod = await h.waitPod("nobin", (p) => cs(p)?.state?.waiting?.reason === "CrashLoopBackOff", "back-off");
  expect(cs(pod).restartCount).toBe(1);
  expect(cs(pod).lastState?.terminated).toMatchObject({
    exitCode: 128,
    reason: "StartError",
    message: WHY,
    startedAt: "1970-01-01T00:00:00Z",
  });
  expect(cs(pod).state?.waiting?.message).toMatch(
    /^back-off 10s restarting failed container=app pod=nobin_default/,
  );
  expect(pod.status?.phase).toBe("Running");
  await h.waitEvents("nobin", "Created: Created container app", `Failed: Error: ${WHY}`);
  expect(await h.eventReasons("nobin")).not.toContain("Started");
  expect(await h.eventReasons("nobin")).not.toContain("RunContainerError");

  h.clock.advance(10_000);
  pod = await h.waitPod(
    "nobin",
    (p) => cs(p)?.state?.waiting?.message?.startsWith("back-off 20s"),
    "20 s back-off",
  );
  expect(cs(pod).restartCount).toBe(2);
});

test("restartPolicy Never: a start failure fails the pod with the terminated StartError", async () => {
  await h.createPod("once", {
    restartPolicy: "Never",
    containers: [{ name: "app", image: "busybox:1.36", command: [MISSING] }],
  });
  const pod = await h.waitPod("once", (p) => p.status?.phase === "Failed");
  expect(cs(pod).state?.terminated).toMatchObject({ exitCode: 128, reason: "StartError" });
  expect(cs(pod).restartCount).toBe(0);
});

test("a PID 1 that ignores SIGTERM takes the whole grace period, then is killed (137)", async () => {
  await h.createPod("stubborn", {
    terminationGracePeriodSeconds: 30,
    containers: [{ name: "app", image: "busybox:1.36", command: ["ignore-sigterm"] }],
  });
  const pod = await h.waitPod("stubborn", (p) => cs(p)?.state?.running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  await h.client.delete("pods", "default", "stubborn");
  const until = async (check: () => boolean, what: string) => {
    const deadline = Date.now() + 3000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // SIGTERM sent: the stop now waits out the grace period
  await until(() => (h.host.entry(id)?.stopWaiters.size ?? 0) > 0, "the stop to begin");
  h.clock.advance(29_000);
  await new Promise((r) => setTimeout(r, 50));
  expect(h.host.entry(id)!.status.state).toBe("running");
  h.clock.advance(1_000);
  await until(() => h.host.entry(id)?.status.state !== "running", "SIGKILL after the grace");
  expect(h.host.entry(id)?.status.exitCode ?? 137).toBe(137);
});

test("a reboot leaves the runtime's records exited (exit code lost), and the agent starts attempt 1", async () => {
  await h.createPod("boot", {});
  const pod = await h.waitPod("boot", (p) => cs(p)?.state?.running);
  const uid = pod.metadata.uid!;
  await h.agent.stop();
  h.host.reboot();
  const before = h.host.find(uid, "app")!;
  expect(before).toMatchObject({ attempt: 0, state: "exited", reason: "ContainerStatusUnknown" });
  expect(before.exitCode).toBeUndefined();
  expect(h.host.sandboxes.get(uid)!.status).toMatchObject({ ready: false });
  await h.restartAgent();
  const again = await h.waitPod("boot", (p) => cs(p)?.restartCount === 1 && cs(p)?.state?.running);
  expect(cs(again).lastState?.terminated).toMatchObject({ exitCode: 137, reason: "ContainerStatusUnknown" });
  expect(again.status!.podIP).toMatch(/^10\.88\./);
});
