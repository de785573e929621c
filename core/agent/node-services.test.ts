import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const cs = (p: Pod, name = "app") =>
  p.status?.containerStatuses?.find((c) => c.name === name) as ContainerStatus;
const text = async (s: Promise<ReadableStream<Uint8Array>>) => new Response(await s).text();
async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  if (!(e instanceof ApiError)) throw new Error(`expected an ApiError, got ${e}`);
  return `${e.reason}: ${e.message}`;
}

test("logs of the current and the previous container, by name", async () => {
  await h.createPod("logs", {
    containers: [
      { name: "app", image: "busybox:1.36" },
      { name: "side", image: "busybox:1.36" },
    ],
  });
  const pod = await h.waitPod("logs", (p) => p.status?.phase === "Running" && cs(p, "side")?.state?.running);
  const uid = pod.metadata.uid!;
  const ns = h.agent.nodeServices;
  h.host.writeLog(h.host.find(uid, "app")!.id, "first run\n");
  h.host.writeLog(h.host.find(uid, "side")!.id, "sidecar\n");
  // No container named: the first one.
  expect(await text(ns.logs("default", "logs", undefined, {}))).toBe("first run\n");
  expect(await text(ns.logs("default", "logs", "side", {}))).toBe("sidecar\n");
  expect(await failure(ns.logs("default", "logs", "app", { previous: true }))).toBe(
    'BadRequest: previous terminated container "app" in pod "logs" not found',
  );
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  await h.waitPod("logs", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  h.host.writeLog(h.host.find(uid, "app")!.id, "second run\n");
  expect(await text(ns.logs("default", "logs", "app", {}))).toBe("second run\n");
  expect(await text(ns.logs("default", "logs", "app", { previous: true }))).toBe("first run\n");
  // In CrashLoopBackOff the plain logs are those of the last run.
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  await h.waitPod("logs", (p) => cs(p).state?.waiting?.reason === "CrashLoopBackOff");
  expect(await text(ns.logs("default", "logs", "app", {}))).toBe("second run\n");
  expect(await text(ns.logs("default", "logs", "app", { tailLines: 0 }))).toBe("");
});

test("errors name the pod and container", async () => {
  const ns = h.agent.nodeServices;
  expect(await failure(ns.logs("default", "nope", undefined, {}))).toBe('NotFound: pods "nope" not found');
  h.fake.failPull("127.0.0.1:5000/never:1");
  await h.createPod("waiting", { containers: [{ name: "app", image: "127.0.0.1:5000/never:1" }] });
  await h.waitPod("waiting", (p) => cs(p)?.state?.waiting?.reason === "ErrImagePull");
  expect(await failure(ns.logs("default", "waiting", "other", {}))).toBe(
    "BadRequest: container other is not valid for pod waiting",
  );
  expect(await failure(ns.logs("default", "waiting", "app", {}))).toBe(
    `BadRequest: container "app" in pod "waiting" is waiting to start: image can't be pulled`,
  );
  expect(await failure(ns.exec("default", "waiting", "app", ["ls"], { tty: false, stdin: false }))).toBe(
    `BadRequest: container "app" in pod "waiting" is waiting to start: ErrImagePull`,
  );
  expect(await failure(ns.portForward("default", "nope", 80))).toBe('NotFound: pods "nope" not found');
});

test("a pod of another (joined) node is not this node's to serve, and says where it runs", async () => {
  await h.createPod("elsewhere", {
    nodeName: "worker-2",
    containers: [{ name: "app", image: "busybox:1.36" }],
  });
  const message = await failure(h.agent.nodeServices.logs("default", "elsewhere", undefined, {}));
  expect(message).toStartWith("BadRequest: pod default/elsewhere runs on node worker-2");
});

test("a pod not yet started is 'waiting to start: ContainerCreating'", async () => {
  // Bound to this node but the agent is stopped, so nothing runs it yet.
  await h.agent.stop();
  await h.createPod("early", {});
  expect(await failure(h.agent.nodeServices.logs("default", "early", "app", {}))).toBe(
    'BadRequest: container "app" in pod "early" is waiting to start: ContainerCreating',
  );
});

test("exec runs in the running container; stats cover the pod's containers", async () => {
  await h.createPod("ex", {
    containers: [{ name: "app", image: "busybox:1.36", resources: { limits: { memory: "32Mi" } } }],
  });
  await h.waitPod("ex", (p) => cs(p)?.state?.running);
  const ns = h.agent.nodeServices;
  const session = await ns.exec("default", "ex", undefined, ["echo", "hello"], { tty: false, stdin: false });
  expect(await new Response(session.stdout).text()).toBe("hello\n");
  expect(await session.exited).toBe(0);
  const stats = await ns.podStats("default");
  expect(stats).toHaveLength(1);
  expect(stats[0]!.name).toBe("ex");
  expect(stats[0]!.containers.map((c) => [c.name, c.memoryLimitBytes])).toEqual([["app", 32 << 20]]);
  expect(await ns.podStats("kube-system")).toEqual([]);
  const node = await ns.nodeStats();
  expect(node.memoryWorkingSetBytes).toBeGreaterThan(0);
  expect(node.cpuUsageNanoSeconds).toBeGreaterThan(0);
});

test("portForward dials the pod IP", async () => {
  await h.close();
  const dialed: string[] = [];
  h = await startHarness({
    dial: async (ip, port) => {
      dialed.push(`${ip}:${port}`);
      throw new Error("connect: connection refused");
    },
  });
  await h.createPod("pf", {});
  const pod = await h.waitPod("pf", (p) => cs(p)?.state?.running);
  expect(await failure(h.agent.nodeServices.portForward("default", "pf", 8080))).toBe(
    "InternalError: error forwarding port 8080 to pod pf: connect: connection refused",
  );
  expect(dialed).toEqual([`${pod.status!.podIP}:8080`]);
});

test("inspect shows the newest attempt of the named container, with its limits as cgroup figures", async () => {
  await h.createPod("busy", {
    containers: [
      { name: "app", image: "busybox:1.36", resources: { limits: { cpu: "300m", memory: "64Mi" } } },
      { name: "side", image: "busybox:1.36" },
    ],
  });
  const pod = await h.waitPod("busy", (p) => p.status?.phase === "Running" && cs(p, "side")?.state?.running);
  const ns = h.agent.nodeServices;
  const first = await ns.inspect("default", "busy", undefined);
  expect(first.name).toBe("app");
  expect(first.cgroup?.cpu).toEqual({ quotaMicros: 30000, periodMicros: 100000, percentOfOneCpu: 30 });
  expect(first.cgroup?.memoryMaxBytes).toBe(64 * 1024 * 1024);
  expect(first.namespaces.find((n) => n.type === "net")?.sharedWith).toBe("pod");
  const side = await ns.inspect("default", "busy", "side");
  expect(side.namespaces.find((n) => n.type === "net")?.inode).toBe(
    first.namespaces.find((n) => n.type === "net")?.inode,
  );
  h.fake.exit(h.host.find(pod.metadata.uid!, "app")!.id, 1);
  await h.waitPod("busy", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect((await ns.inspect("default", "busy", "app")).id).not.toBe(first.id);
  expect(await failure(ns.inspect("default", "busy", "nope"))).toBe(
    "BadRequest: container nope is not valid for pod busy",
  );
});
