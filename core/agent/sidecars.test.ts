import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

let h: Harness;
/** What the fake's exec answers, per probe command. */
let healthy: Record<string, boolean>;
beforeEach(async () => {
  h = await startHarness();
  healthy = {};
  h.host.execHandler = (_c, command) => (healthy[command[1]!] ? { exitCode: 0 } : { exitCode: 1 });
});
afterEach(async () => {
  await h.close();
});

const init = (p: Pod, name: string) =>
  p.status?.initContainerStatuses?.find((c) => c.name === name) as ContainerStatus;
const app = (p: Pod) => p.status?.containerStatuses?.[0] as ContainerStatus;
const cond = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);
const check = (what: string) => ({ exec: { command: ["check", what] }, periodSeconds: 10 });
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
  await h.agent.idle();
};
const sidecar = { name: "proxy", image: "busybox:1.36", restartPolicy: "Always" };

test("a Job-style pod whose app succeeded is Succeeded: its sidecar is stopped, not waited for", async () => {
  await h.createPod("job", { restartPolicy: "Never", initContainers: [sidecar] });
  let pod = await h.waitPod("job", (p) => app(p)?.state?.running, "app running");
  const uid = pod.metadata.uid!;
  expect(pod.status?.phase).toBe("Running");
  expect(init(pod, "proxy")).toMatchObject({ ready: true, started: true, state: { running: {} } });
  expect(cond(pod, "Initialized")?.status).toBe("True");
  // sidecar first, then the app
  expect(h.host.started.filter((c) => c.podUid === uid).map((c) => c.name)).toEqual(["proxy", "app"]);
  h.fake.exit(h.host.find(uid, "app")!.id, 0);
  pod = await h.waitPod("job", (p) => p.status?.phase === "Succeeded", "Succeeded");
  expect(app(pod).state?.terminated?.exitCode).toBe(0);
  expect(init(pod, "proxy").state?.terminated).toBeDefined();
  expect(h.host.find(uid, "proxy")!.state).toBe("exited");
  // never restarted once the app finished
  expect(h.host.started.filter((c) => c.podUid === uid && c.name === "proxy")).toHaveLength(1);
});

test("a sidecar is restarted whatever the pod's restartPolicy; a failed app under Never fails the pod", async () => {
  await h.createPod("restart", { restartPolicy: "Never", initContainers: [sidecar] });
  let pod = await h.waitPod("restart", (p) => app(p)?.state?.running, "app running");
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "proxy")!.id, 1);
  pod = await h.waitPod(
    "restart",
    (p) => init(p, "proxy")?.restartCount === 1 && init(p, "proxy").state?.running,
  );
  expect(pod.status?.phase).toBe("Running");
  expect(cond(pod, "Initialized")?.status).toBe("True");
  expect(h.host.started.filter((c) => c.podUid === uid && c.name === "app")).toHaveLength(1);
  h.fake.exit(h.host.find(uid, "app")!.id, 3);
  pod = await h.waitPod("restart", (p) => p.status?.phase === "Failed", "Failed");
  expect(h.host.find(uid, "proxy")!.state).toBe("exited");
});

test("the next init container waits for the sidecar's startupProbe; its readiness gates pod Ready", async () => {
  await h.createPod("web", {
    initContainers: [
      { ...sidecar, startupProbe: check("started"), readinessProbe: check("ready") },
      { name: "migrate", image: "busybox:1.36" },
    ],
  });
  let pod = await h.waitPod("web", (p) => init(p, "proxy")?.state?.running, "sidecar running");
  const uid = pod.metadata.uid!;
  await settle();
  pod = await h.getPod("web");
  expect(pod.status?.phase).toBe("Pending");
  expect(init(pod, "proxy").started).toBe(false);
  expect(h.host.find(uid, "migrate")).toBeUndefined();
  expect(cond(pod, "Initialized")).toMatchObject({
    status: "False",
    message: "containers with incomplete status: [proxy migrate]",
  });
  healthy.started = true;
  h.clock.advance(10_000);
  pod = await h.waitPod(
    "web",
    (p) => init(p, "migrate")?.state?.running,
    "migrate after the sidecar started",
  );
  expect(init(pod, "proxy").started).toBe(true);
  h.fake.exit(h.host.find(uid, "migrate")!.id, 0);
  pod = await h.waitPod("web", (p) => app(p)?.ready, "app ready");
  expect(cond(pod, "Ready")).toMatchObject({
    status: "False",
    message: "containers with unready status: [proxy]",
  });
  healthy.ready = true;
  h.clock.advance(10_000);
  pod = await h.waitPod("web", (p) => cond(p, "Ready")?.status === "True", "Ready with the sidecar ready");
  expect(init(pod, "proxy")).toMatchObject({ ready: true, started: true });
  expect(init(pod, "migrate")).toMatchObject({ ready: true, state: { terminated: { exitCode: 0 } } });
});

test("deletion stops the app containers first, then the sidecars last-declared first", async () => {
  await h.createPod("order", {
    initContainers: [
      { ...sidecar, name: "log" },
      { ...sidecar, name: "mesh" },
    ],
  });
  const pod = await h.waitPod("order", (p) => app(p)?.state?.running, "app running");
  const uid = pod.metadata.uid!;
  const stops: string[] = [];
  const original = h.fake.stopContainer.bind(h.fake);
  h.fake.stopContainer = async (id, grace) => {
    const name = h.host.containers.get(id)?.status.name;
    await original(id, grace);
    if (name) stops.push(name);
  };
  await h.client.delete("pods", "default", "order", {});
  await waitFor(async () => stops.length === 3);
  expect(stops).toEqual(["app", "mesh", "log"]);
  await waitFor(async () => !(await h.client.tryGet("pods", "default", "order")));
  expect(h.host.find(uid, "log")).toBeUndefined();
});
