import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { type Harness, NODE, startHarness } from "./testing/agent-harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const cs = (p: Pod, name = "app") =>
  p.status?.containerStatuses?.find((c) => c.name === name) as ContainerStatus;
const cond = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);
const running = (p: Pod) => p.status?.phase === "Running" && cs(p)?.state?.running !== undefined;

test("a pod reaches Running with the containerStatuses and conditions kubectl shows", async () => {
  await h.createPod("web", {
    containers: [
      { name: "web", image: "nginx:1.25", ports: [{ containerPort: 80, hostPort: 8080 }] },
      { name: "side", image: "busybox:1.36", resources: { limits: { cpu: "100m", memory: "64Mi" } } },
    ],
    hostAliases: [{ ip: "10.1.2.3", hostnames: ["db.local"] }],
  });
  const pod = await h.waitPod("web", (p) => cond(p, "Ready")?.status === "True", "web Ready");
  const s = pod.status!;
  expect(s.phase).toBe("Running");
  expect(s.hostIP).toBe("192.168.7.2");
  expect(s.podIP).toMatch(/^10\.88\./);
  expect(s.podIPs).toEqual([{ ip: s.podIP! }]);
  expect(s.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(s.qosClass).toBe("Burstable");
  expect(s.conditions!.map((c) => [c.type, c.status])).toEqual([
    ["PodReadyToStartContainers", "True"],
    ["Initialized", "True"],
    ["Ready", "True"],
    ["ContainersReady", "True"],
    ["PodScheduled", "True"],
  ]);
  // Sorted by name, like the kubelet.
  expect(s.containerStatuses!.map((c) => c.name)).toEqual(["side", "web"]);
  const [uid] = [pod.metadata.uid!];
  const web = h.host.find(uid, "web")!;
  expect(cs(pod, "web")).toEqual({
    name: "web",
    image: "nginx:1.25",
    imageID: web.imageId,
    containerID: `fake://${web.id}`,
    restartCount: 0,
    state: { running: { startedAt: web.startedAt!.replace(/\.\d+Z$/, "Z") } },
    lastState: {},
    ready: true,
    started: true,
  });

  const sandbox = h.host.sandboxes.get(uid)!.config;
  expect(sandbox.hostname).toBe("web");
  expect(sandbox.dns).toEqual({
    nameservers: ["10.96.0.10"],
    searches: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
    options: ["ndots:5"],
  });
  expect(sandbox.hostAliases).toEqual([{ ip: "10.1.2.3", hostnames: ["db.local"] }]);
  expect(sandbox.hostPorts).toEqual([{ containerPort: 80, hostPort: 8080, protocol: "TCP" }]);
  expect(h.host.config(h.host.find(uid, "side")!.id)!.resources).toEqual({
    cpuLimitMillis: 100,
    cpuRequestMillis: 100,
    memoryLimitBytes: 64 << 20,
    memoryRequestBytes: 64 << 20,
  });

  const reasons = await waitFor(async () => {
    const r = await h.eventReasons("web");
    return r.includes("Started") ? r : undefined;
  });
  expect(reasons).toEqual(expect.arrayContaining(["Pulling", "Pulled", "Created", "Started"]));
  // Re-syncing an unchanged pod writes nothing.
  const rv = (await h.getPod("web")).metadata.resourceVersion;
  await h.agent.idle();
  h.clock.advance(0);
  expect((await h.getPod("web")).metadata.resourceVersion).toBe(rv);
});

test("a crashing container restarts with back-off and shows CrashLoopBackOff", async () => {
  await h.createPod("crash", { containers: [{ name: "app", image: "busybox:1.36" }] });
  let pod = await h.waitPod("crash", running);
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "app")!.id, 2);
  // The first restart is immediate.
  pod = await h.waitPod("crash", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(cs(pod).lastState?.terminated).toMatchObject({ exitCode: 2, reason: "Error" });
  h.fake.exit(h.host.find(uid, "app")!.id, 3);
  pod = await h.waitPod("crash", (p) => cs(p).state?.waiting?.reason === "CrashLoopBackOff");
  expect(cs(pod).state!.waiting!.message).toBe(
    `back-off 10s restarting failed container=app pod=crash_default(${uid})`,
  );
  expect(cs(pod).ready).toBe(false);
  expect(cs(pod).lastState?.terminated?.exitCode).toBe(3);
  expect(pod.status!.phase).toBe("Running");
  expect(cond(pod, "Ready")?.status).toBe("False");
  expect(cond(pod, "Ready")?.reason).toBe("ContainersNotReady");
  h.clock.advance(9_000);
  await h.agent.idle();
  expect(h.host.find(uid, "app")!.attempt).toBe(1);
  h.clock.advance(1_000);
  pod = await h.waitPod("crash", (p) => cs(p).restartCount === 2 && cs(p).state?.running);
  // Third crash: back-off doubled.
  h.fake.exit(h.host.find(uid, "app")!.id, 4);
  pod = await h.waitPod("crash", (p) => cs(p).state?.waiting?.message?.startsWith("back-off 20s"));
  await h.waitEvents(
    "crash",
    `BackOff: Back-off restarting failed container app in pod crash_default(${uid})`,
  );
  h.clock.advance(20_000);
  pod = await h.waitPod("crash", (p) => cs(p).restartCount === 3 && cs(p).state?.running);
  // Only the current and the previous attempt are kept (the previous one for logs --previous).
  const kept = await h.containersOf("crash", "app");
  expect(kept.map((c) => c!.attempt)).toEqual([2, 3]);
  expect(cs(pod).lastState?.terminated?.containerID).toBe(`fake://${kept[0]!.id}`);
});

test("restartPolicy Never leaves a failed container terminated and the pod Failed", async () => {
  await h.createPod("never", { restartPolicy: "Never" });
  const pod = await h.waitPod("never", running);
  h.fake.exit(h.host.find(pod.metadata.uid!, "app")!.id, 1);
  const done = await h.waitPod("never", (p) => p.status?.phase === "Failed");
  expect(cs(done).state?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
  expect(cs(done).restartCount).toBe(0);
  expect(cond(done, "Ready")?.reason).toBe("PodCompleted");
  expect(h.host.sandboxes.get(pod.metadata.uid!)?.status.ready).toBe(false);
  expect(done.status!.podIP).toBe(pod.status!.podIP);
});

test("restartPolicy OnFailure restarts failures and completes on success", async () => {
  await h.createPod("job", { restartPolicy: "OnFailure" });
  const pod = await h.waitPod("job", running);
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  await h.waitPod("job", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  h.fake.exit(h.host.find(uid, "app")!.id, 0);
  const done = await h.waitPod("job", (p) => p.status?.phase === "Succeeded");
  expect(cs(done).state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  expect(cs(done).restartCount).toBe(1);
  expect((await h.containersOf("job")).length).toBe(2);
});

test("an OOM kill is reported as OOMKilled", async () => {
  await h.createPod("oom", {
    restartPolicy: "Never",
    containers: [{ name: "app", image: "busybox:1.36", resources: { limits: { memory: "16Mi" } } }],
  });
  const pod = await h.waitPod("oom", running);
  h.fake.exit(h.host.find(pod.metadata.uid!, "app")!.id, 137, { oom: true });
  const done = await h.waitPod("oom", (p) => p.status?.phase === "Failed");
  expect(cs(done).state?.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
});

test("image pull failure: ErrImagePull, then ImagePullBackOff, then Running once it can be pulled", async () => {
  h.fake.failPull("127.0.0.1:5000/nope:1", "manifest unknown: 127.0.0.1:5000/nope:1");
  await h.createPod("pull", { containers: [{ name: "app", image: "127.0.0.1:5000/nope:1" }] });
  let pod = await h.waitPod("pull", (p) => cs(p)?.state?.waiting?.reason === "ErrImagePull");
  expect(cs(pod).state!.waiting!.message).toBe("manifest unknown: 127.0.0.1:5000/nope:1");
  expect(pod.status!.phase).toBe("Pending");
  h.clock.advance(5_000);
  pod = await h.waitPod("pull", (p) => cs(p).state?.waiting?.reason === "ImagePullBackOff");
  expect(cs(pod).state!.waiting!.message).toBe('Back-off pulling image "127.0.0.1:5000/nope:1"');
  h.clock.advance(5_000);
  pod = await h.waitPod("pull", (p) => cs(p).state?.waiting?.reason === "ErrImagePull");
  const pulls = h.host.pulls.filter((p) => p.image === "127.0.0.1:5000/nope:1").length;
  expect(pulls).toBe(2);
  // Back-off doubled to 20 s: nothing is tried at +10 s.
  h.clock.advance(10_000);
  await h.waitPod("pull", (p) => cs(p).state?.waiting?.reason === "ImagePullBackOff");
  expect(h.host.pulls.filter((p) => p.image === "127.0.0.1:5000/nope:1").length).toBe(2);
  h.fake.clearPullFailure("127.0.0.1:5000/nope:1");
  h.clock.advance(10_000);
  await h.waitPod("pull", running);
  await h.waitEvents(
    "pull",
    'Failed: Failed to pull image "127.0.0.1:5000/nope:1": manifest unknown: 127.0.0.1:5000/nope:1',
    "Failed: Error: ErrImagePull",
    'BackOff: Back-off pulling image "127.0.0.1:5000/nope:1"',
  );
});

test("imagePullPolicy Never with a missing image is ErrImageNeverPull", async () => {
  await h.createPod("never-pull", {
    containers: [{ name: "app", image: "local/missing:1", imagePullPolicy: "Never" }],
  });
  const pod = await h.waitPod("never-pull", (p) => cs(p)?.state?.waiting?.reason === "ErrImageNeverPull");
  expect(cs(pod).state!.waiting!.message).toBe(
    'Container image "local/missing:1" is not present with pull policy of Never',
  );
});

test("graceful deletion stops the containers, then removes the pod", async () => {
  await h.createPod("bye", { terminationGracePeriodSeconds: 20 });
  const pod = await h.waitPod("bye", running);
  const uid = pod.metadata.uid!;
  const id = h.host.find(uid, "app")!.id;
  h.host.holdStop(id);
  const deleted = await h.client.delete("pods", "default", "bye");
  expect(deleted.metadata.deletionTimestamp).toBeTruthy();
  await waitFor(async () => (await h.eventReasons("bye")).includes("Killing"));
  expect(await h.client.tryGet("pods", "default", "bye")).toBeDefined();
  h.fake.exit(id, 0);
  await waitFor(async () => !(await h.client.tryGet("pods", "default", "bye")), { what: "pod removed" });
  expect(h.host.sandboxes.has(uid)).toBe(false);
  expect(h.host.containers.has(id)).toBe(false);
  await h.waitEvents("bye", "Killing: Stopping container app");
});

test("the grace period ends in a kill when the container ignores SIGTERM", async () => {
  await h.createPod("stubborn", { terminationGracePeriodSeconds: 30 });
  const pod = await h.waitPod("stubborn", running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  h.host.holdStop(id);
  await h.client.delete("pods", "default", "stubborn", { gracePeriodSeconds: 5 });
  await waitFor(async () => (await h.eventReasons("stubborn")).includes("Killing"));
  h.clock.advance(4_000);
  expect(await h.client.tryGet("pods", "default", "stubborn")).toBeDefined();
  h.clock.advance(1_000);
  await waitFor(async () => !(await h.client.tryGet("pods", "default", "stubborn")), { what: "pod removed" });
});

test("a restarted agent adopts running containers without duplicating them", async () => {
  await h.createPod("keep", {});
  let pod = await h.waitPod("keep", running);
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  pod = await h.waitPod("keep", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  const before = (await h.containersOf("keep")).map((c) => c!.id);
  await h.restartAgent();
  await h.agent.idle();
  pod = await h.getPod("keep");
  expect((await h.containersOf("keep")).map((c) => c!.id)).toEqual(before);
  expect(h.host.started.filter((c) => c.podUid === uid)).toHaveLength(2);
  expect(cs(pod).restartCount).toBe(1);
  expect(cs(pod).ready).toBe(true);
  // Exits are still noticed by the new agent.
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  await h.waitPod("keep", (p) => cs(p).restartCount === 2 && cs(p).state?.running);
});

test("containers of pods missing from the store are removed at start", async () => {
  await h.createPod("gone", {});
  const pod = await h.waitPod("gone", running);
  const uid = pod.metadata.uid!;
  await h.agent.stop();
  // Removed while the agent was down (a force delete).
  await h.client.delete("pods", "default", "gone", { gracePeriodSeconds: 0 });
  expect(h.host.sandboxes.has(uid)).toBe(true);
  await h.restartAgent();
  await waitFor(() => !h.host.sandboxes.has(uid), { what: "orphan sandbox removed" });
  expect([...h.host.containers.values()].some((c) => c.status.podUid === uid)).toBe(false);
});

test("a force-deleted pod's containers are removed by the running agent", async () => {
  await h.createPod("force", {});
  const pod = await h.waitPod("force", running);
  await h.client.delete("pods", "default", "force", { gracePeriodSeconds: 0 });
  await waitFor(() => !h.host.sandboxes.has(pod.metadata.uid!), { what: "sandbox removed" });
});

test("a grace-0 pod removed at once still gets SIGTERM, and SIGKILL after 1 s (the kubelet's floor)", async () => {
  await h.createPod("quick", { terminationGracePeriodSeconds: 0 });
  const pod = await h.waitPod("quick", running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  h.host.holdStop(id);
  await h.client.delete("pods", "default", "quick");
  expect(await h.client.tryGet("pods", "default", "quick")).toBeUndefined();
  await waitFor(() => (h.host.entry(id)?.stopWaiters.size ?? 0) >= 1, { what: "the stop under way" });
  h.clock.advance(999);
  expect(h.host.containers.get(id)?.status.state).toBe("running");
  h.clock.advance(1);
  await waitFor(() => !h.host.sandboxes.has(pod.metadata.uid!), { what: "sandbox removed" });
  expect(h.host.containers.has(id)).toBe(false);
});

test("after a host reboot the pods are recreated and restartCount keeps counting", async () => {
  await h.createPod("boot", {});
  const pod = await h.waitPod("boot", running);
  await h.agent.stop();
  h.host.reboot();
  await h.restartAgent();
  const again = await h.waitPod("boot", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(h.host.find(pod.metadata.uid!, "app")!.attempt).toBe(1);
  expect(again.status!.podIP).toMatch(/^10\.88\./);
});

test("pods of other nodes are left alone", async () => {
  await h.client.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "elsewhere", namespace: "default" },
    spec: { nodeName: "node-2", containers: [{ name: "app", image: "busybox:1.36" }] },
  });
  await h.createPod("here", {});
  await h.waitPod("here", running);
  const other = await h.getPod("elsewhere");
  expect(other.status?.phase).toBe("Pending");
  expect(other.status?.containerStatuses).toBeUndefined();
  expect(NODE).toBe("node-1");
});

test("while the image is pulled the pod shows ContainerCreating and its IP", async () => {
  const release = h.host.holdPull("127.0.0.1:5000/slow:1");
  await h.createPod("slow", { containers: [{ name: "app", image: "127.0.0.1:5000/slow:1" }] });
  const pod = await h.waitPod("slow", (p) => cs(p)?.state?.waiting?.reason === "ContainerCreating");
  expect(pod.status!.phase).toBe("Pending");
  expect(pod.status!.podIP).toMatch(/^10\.88\./);
  expect(cond(pod, "Ready")).toMatchObject({
    status: "False",
    reason: "ContainersNotReady",
    message: "containers with unready status: [app]",
  });
  release();
  await h.waitPod("slow", running);
});

test("a new image on a running pod restarts its container", async () => {
  await h.createPod("img", { containers: [{ name: "app", image: "busybox:1.36" }] });
  let pod = await h.waitPod("img", running);
  // A patch carries no resourceVersion, so a concurrent status write cannot make it conflict.
  await h.client.patch("pods", "default", "img", "strategic", {
    spec: { containers: [{ name: "app", image: "busybox:1.37" }] },
  });
  pod = await h.waitPod("img", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(cs(pod).image).toBe("busybox:1.37");
  expect(h.host.find(pod.metadata.uid!, "app")!.image).toBe("docker.io/library/busybox:1.37");
  await h.waitEvents("img", "Killing: Container app definition changed, will be restarted");
});

test("preStop runs before the container is stopped; a failing postStart kills the container", async () => {
  const seen: string[] = [];
  h.host.execHandler = (c, command) => {
    seen.push(`${command.join(" ")} while ${c.state}`);
    return { exitCode: command.includes("fail") ? 1 : 0, stdout: command.includes("fail") ? "nope" : "" };
  };
  await h.createPod("hooks", {
    containers: [
      { name: "app", image: "busybox:1.36", lifecycle: { preStop: { exec: { command: ["drain"] } } } },
    ],
  });
  const pod = await h.waitPod("hooks", running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  await h.client.delete("pods", "default", "hooks");
  await waitFor(async () => !(await h.client.tryGet("pods", "default", "hooks")), { what: "pod removed" });
  expect(seen).toEqual(["drain while running"]);
  expect(h.host.containers.has(id)).toBe(false);

  await h.createPod("poststart", {
    restartPolicy: "OnFailure",
    containers: [
      { name: "app", image: "busybox:1.36", lifecycle: { postStart: { exec: { command: ["sh", "fail"] } } } },
    ],
  });
  await waitFor(async () =>
    (await h.eventMessages("poststart")).includes("FailedPostStartHook: PostStartHook failed: nope"),
  );
  const after = await h.waitPod("poststart", (p) => (cs(p)?.restartCount ?? 0) >= 1);
  expect(cs(after).lastState?.terminated?.exitCode ?? cs(after).state?.terminated?.exitCode).toBe(143);
});

test("a container left half-created by a crash is replaced", async () => {
  await h.createPod("half", {});
  const pod = await h.waitPod("half", running);
  const uid = pod.metadata.uid!;
  await h.agent.stop();
  const entry = h.host.entry(h.host.find(uid, "app")!.id)!;
  entry.status = { ...entry.status, state: "created", startedAt: undefined };
  await h.restartAgent();
  await waitFor(() => !h.host.containers.has(entry.status.id), { what: "stale container removed" });
  const again = await h.waitPod(
    "half",
    (p) => cs(p).state?.running && cs(p).containerID !== `fake://${entry.status.id}`,
  );
  // Like after a reboot: the stored status knew a container, so the replacement counts as a restart.
  expect(cs(again).restartCount).toBe(1);
  expect(h.host.find(uid, "app")!.attempt).toBe(1);
});

test("stop() does not wait for a hanging image pull", async () => {
  const release = h.host.holdPull("127.0.0.1:5000/hang:1");
  await h.createPod("hang", { containers: [{ name: "app", image: "127.0.0.1:5000/hang:1" }] });
  await h.waitPod("hang", (p) => cs(p)?.state?.waiting?.reason === "ContainerCreating");
  const began = Date.now();
  await h.agent.stop();
  expect(Date.now() - began).toBeLessThan(3000);
  release();
});

test("an exit code lost while minik was down counts as a failure (137, ContainerStatusUnknown)", async () => {
  await h.createPod("lost", { restartPolicy: "OnFailure" });
  const pod = await h.waitPod("lost", running);
  const entry = h.host.entry(h.host.find(pod.metadata.uid!, "app")!.id)!;
  await h.agent.stop();
  h.fake.exit(entry.status.id, 0);
  entry.status = { ...entry.status, exitCode: undefined, reason: "ContainerStatusUnknown" };
  await h.restartAgent();
  const again = await h.waitPod("lost", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(cs(again).lastState?.terminated).toMatchObject({ exitCode: 137, reason: "ContainerStatusUnknown" });
});

test("activeDeadlineSeconds fails the pod and stops its containers", async () => {
  await h.createPod("deadline", { activeDeadlineSeconds: 30 });
  const pod = await h.waitPod("deadline", running);
  h.clock.advance(29_000);
  await h.agent.idle();
  expect((await h.getPod("deadline")).status!.phase).toBe("Running");
  h.clock.advance(1_000);
  const failed = await h.waitPod("deadline", (p) => p.status?.phase === "Failed");
  expect(failed.status).toMatchObject({
    reason: "DeadlineExceeded",
    message: "Pod was active on the node longer than the specified deadline",
  });
  expect(cs(failed).state?.terminated?.exitCode).toBe(143);
  expect(h.host.find(pod.metadata.uid!, "app")!.state).toBe("exited");
  await h.waitEvents(
    "deadline",
    "DeadlineExceeded: Pod was active on the node longer than the specified deadline",
  );
});

test("FallbackToLogsOnError puts the log tail into the termination message", async () => {
  await h.createPod("fallback", {
    restartPolicy: "Never",
    containers: [{ name: "app", image: "busybox:1.36", terminationMessagePolicy: "FallbackToLogsOnError" }],
  });
  const pod = await h.waitPod("fallback", running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  h.host.writeLog(id, "starting\n");
  h.host.writeLog(id, "panic: no config\n");
  h.fake.exit(id, 2);
  const done = await h.waitPod("fallback", (p) => p.status?.phase === "Failed");
  expect(cs(done).state?.terminated).toMatchObject({
    exitCode: 2,
    reason: "Error",
    message: "starting\npanic: no config\n",
  });
});

test("a pod whose image is already here reaches Running with a single status write", async () => {
  await h.createPod("first", {});
  await h.waitPod("first", running);
  const modified: string[] = [];
  const rv = (await h.client.list("pods")).resourceVersion;
  const stop = await h.client.watch("pods", { resourceVersion: rv }, (e) => {
    if (e.object.metadata.name === "second") modified.push(`${e.type} ${(e.object as Pod).status?.phase}`);
  });
  await h.createPod("second", {});
  await h.waitPod("second", running);
  await h.agent.idle();
  stop();
  expect(modified).toEqual(["ADDED Pending", "MODIFIED Running"]);
});

test("a second delete with a shorter grace period cuts the running stop short", async () => {
  await h.createPod("hurry", { terminationGracePeriodSeconds: 30 });
  const pod = await h.waitPod("hurry", running);
  const id = h.host.find(pod.metadata.uid!, "app")!.id;
  h.host.holdStop(id);
  await h.client.delete("pods", "default", "hurry");
  await h.waitEvents("hurry", "Killing: Stopping container app");
  await h.client.delete("pods", "default", "hurry", { gracePeriodSeconds: 3 });
  await waitFor(() => h.host.entry(id)!.stopWaiters.size >= 2, { what: "the shorter stop" });
  h.clock.advance(3_000);
  await waitFor(async () => !(await h.client.tryGet("pods", "default", "hurry")), { what: "pod removed" });
  expect(h.host.containers.has(id)).toBe(false);
});

test("a hostNetwork/hostPID/hostIPC pod: the host's namespaces, the node's address, the host's resolver", async () => {
  await h.createPod("exporter", {
    hostNetwork: true,
    hostPID: true,
    hostIPC: true,
    containers: [{ name: "app", image: "busybox:1.36", ports: [{ containerPort: 9100, hostPort: 9100 }] }],
  });
  const pod = await h.waitPod("exporter", running, "exporter running");
  expect(pod.status?.podIP).toBe("192.168.7.2");
  expect(pod.status?.podIPs).toEqual([{ ip: "192.168.7.2" }]);
  expect(pod.status?.hostIP).toBe("192.168.7.2");
  const sandbox = h.host.sandboxes.get(pod.metadata.uid!)!;
  expect(sandbox.config.hostNamespaces).toEqual({ network: true, pid: true, ipc: true });
  expect(sandbox.status.ip).toBeUndefined();
  // ClusterFirst on the host network falls back to the host's resolver (dnsPolicy Default)
  expect(sandbox.config.dns.nameservers).not.toContain("10.96.0.10");
});
