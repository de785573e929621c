import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

const testOnBun = "Bun" in globalThis ? test : test.skip;

let h: Harness;
/** What the fake's exec answers, per probe command. */
let healthy: Record<string, boolean>;
let execs: string[];
beforeEach(async () => {
  h = await startHarness();
  healthy = { ready: false, alive: true, started: false };
  execs = [];
  h.host.execHandler = (_c, command) => {
    const what = command[1]!;
    execs.push(what);
    return healthy[what] ? { exitCode: 0 } : { exitCode: 1, stdout: `${what}: no\n` };
  };
});
afterEach(async () => {
  await h.close();
});

const cs = (p: Pod) => p.status?.containerStatuses?.[0] as ContainerStatus;
const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === "Ready")?.status;
const probe = (what: string, extra: object = {}) => ({
  exec: { command: ["check", what] },
  periodSeconds: 10,
  ...extra,
});
/** Lets probe workers finish the attempt that just fell due. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 1));
  await h.agent.idle();
};

test("readiness flips Ready both ways after its thresholds", async () => {
  await h.createPod("r", {
    containers: [
      {
        name: "app",
        image: "busybox:1.36",
        readinessProbe: probe("ready", { successThreshold: 2, failureThreshold: 2 }),
      },
    ],
  });
  let pod = await h.waitPod("r", (p) => cs(p)?.state?.running);
  await settle();
  expect(execs).toEqual(["ready"]);
  pod = await h.getPod("r");
  expect(cs(pod).ready).toBe(false);
  expect(cs(pod).started).toBe(true);
  expect(ready(pod)).toBe("False");
  healthy.ready = true;
  h.clock.advance(10_000);
  await settle();
  expect(cs(await h.getPod("r")).ready).toBe(false); // one success of two
  h.clock.advance(10_000);
  pod = await h.waitPod("r", (p) => ready(p) === "True");
  expect(cs(pod).ready).toBe(true);
  expect(pod.status!.conditions!.find((c) => c.type === "ContainersReady")!.status).toBe("True");
  healthy.ready = false;
  h.clock.advance(10_000);
  await settle();
  expect(ready(await h.getPod("r"))).toBe("True"); // one failure of two
  h.clock.advance(10_000);
  pod = await h.waitPod("r", (p) => ready(p) === "False");
  expect(pod.status!.phase).toBe("Running");
  await h.waitEvents("r", "Unhealthy: Readiness probe failed: ready: no");
});

test("initialDelaySeconds holds the first probes back", async () => {
  healthy.ready = true;
  await h.createPod("d", {
    containers: [
      { name: "app", image: "busybox:1.36", readinessProbe: probe("ready", { initialDelaySeconds: 15 }) },
    ],
  });
  await h.waitPod("d", (p) => cs(p)?.state?.running);
  await settle();
  h.clock.advance(10_000);
  await settle();
  expect(execs).toEqual([]);
  expect(ready(await h.getPod("d"))).toBe("False");
  h.clock.advance(10_000);
  await h.waitPod("d", (p) => ready(p) === "True");
  expect(execs).toEqual(["ready"]);
});

test("liveness failure kills and restarts the container", async () => {
  healthy.alive = false;
  await h.createPod("l", {
    containers: [
      { name: "app", image: "busybox:1.36", livenessProbe: probe("alive", { failureThreshold: 3 }) },
    ],
  });
  const pod = await h.waitPod("l", (p) => cs(p)?.state?.running);
  const uid = pod.metadata.uid!;
  const first = h.host.find(uid, "app")!.id;
  await settle();
  h.clock.advance(10_000);
  await settle();
  expect(h.host.find(uid, "app")!.state).toBe("running");
  h.clock.advance(10_000);
  const restarted = await h.waitPod("l", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(h.host.entry(first)!.status.state).toBe("exited");
  expect(cs(restarted).lastState?.terminated?.containerID).toBe(`fake://${first}`);
  await h.waitEvents(
    "l",
    "Unhealthy: Liveness probe failed: alive: no",
    "Killing: Container app failed liveness probe, will be restarted",
  );
});

test("a startup probe gates liveness and readiness", async () => {
  healthy.ready = true;
  healthy.alive = false;
  await h.createPod("s", {
    containers: [
      {
        name: "app",
        image: "busybox:1.36",
        startupProbe: probe("started", { failureThreshold: 30 }),
        livenessProbe: probe("alive", { failureThreshold: 1 }),
        readinessProbe: probe("ready"),
      },
    ],
  });
  await h.waitPod("s", (p) => cs(p)?.state?.running);
  await settle();
  h.clock.advance(10_000);
  await settle();
  expect([...new Set(execs)]).toEqual(["started"]);
  let pod = await h.getPod("s");
  expect(cs(pod).started).toBe(false);
  expect(cs(pod).ready).toBe(false);
  healthy.started = true;
  healthy.alive = true;
  h.clock.advance(10_000);
  pod = await h.waitPod("s", (p) => cs(p).started === true);
  h.clock.advance(10_000);
  pod = await h.waitPod("s", (p) => ready(p) === "True");
  expect(execs).toContain("alive");
  expect(cs(pod).restartCount).toBe(0);
});

test("init containers run in order before the app containers", async () => {
  await h.createPod("init", {
    initContainers: [
      { name: "first", image: "busybox:1.36" },
      { name: "second", image: "busybox:1.36" },
    ],
  });
  let pod = await h.waitPod("init", (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
  const uid = pod.metadata.uid!;
  expect(pod.status!.phase).toBe("Pending");
  expect(pod.status!.initContainerStatuses!.map((s) => s.state?.waiting?.reason ?? "running")).toEqual([
    "running",
    "PodInitializing",
  ]);
  expect(cs(pod).state?.waiting?.reason).toBe("PodInitializing");
  const initialized = pod.status!.conditions!.find((c) => c.type === "Initialized")!;
  expect(initialized).toMatchObject({
    status: "False",
    reason: "ContainersNotInitialized",
    message: "containers with incomplete status: [first second]",
  });
  h.fake.exit(h.host.find(uid, "first")!.id, 0);
  pod = await h.waitPod("init", (p) => p.status?.initContainerStatuses?.[1]?.state?.running);
  expect(pod.status!.initContainerStatuses![0]!.state?.terminated).toMatchObject({
    exitCode: 0,
    reason: "Completed",
  });
  expect(h.host.find(uid, "app")).toBeUndefined();
  h.fake.exit(h.host.find(uid, "second")!.id, 0);
  pod = await h.waitPod("init", (p) => p.status?.phase === "Running" && cs(p).state?.running);
  expect(pod.status!.conditions!.find((c) => c.type === "Initialized")!.status).toBe("True");
  expect(
    pod.status!.initContainerStatuses!.every((s) => s.ready && s.state?.terminated?.exitCode === 0),
  ).toBe(true);
  // An app container restart does not re-run init containers.
  h.fake.exit(h.host.find(uid, "app")!.id, 1);
  await h.waitPod("init", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(h.host.started.filter((c) => c.podUid === uid).map((c) => c.name)).toEqual([
    "first",
    "second",
    "app",
    "app",
  ]);
});

test("a failed init container with restartPolicy Never fails the pod", async () => {
  await h.createPod("init-fail", {
    restartPolicy: "Never",
    initContainers: [{ name: "setup", image: "busybox:1.36" }],
  });
  const pod = await h.waitPod("init-fail", (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
  h.fake.exit(h.host.find(pod.metadata.uid!, "setup")!.id, 2);
  const failed = await h.waitPod("init-fail", (p) => p.status?.phase === "Failed");
  expect(failed.status!.initContainerStatuses![0]!.state?.terminated?.exitCode).toBe(2);
  expect(h.host.find(pod.metadata.uid!, "app")).toBeUndefined();
});

test("a failed init container is retried with back-off under restartPolicy Always", async () => {
  await h.createPod("init-retry", { initContainers: [{ name: "setup", image: "busybox:1.36" }] });
  let pod = await h.waitPod("init-retry", (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "setup")!.id, 1);
  pod = await h.waitPod("init-retry", (p) => p.status?.initContainerStatuses?.[0]?.restartCount === 1);
  h.fake.exit(h.host.find(uid, "setup")!.id, 1);
  pod = await h.waitPod(
    "init-retry",
    (p) => p.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff",
  );
  expect(pod.status!.phase).toBe("Pending");
  await waitFor(async () => (await h.eventReasons("init-retry")).includes("BackOff"));
});

// its test server is Bun.serve: skipped under Deno (scripts/deno-test)
testOnBun("httpGet probes count 200–399 as success; tcpSocket probes dial the pod IP", async () => {
  let status = 500;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x", { status }) });
  const dialed: string[] = [];
  await h.close();
  h = await startHarness({
    dial: async (ip, port) => {
      dialed.push(`${ip}:${port}`);
      throw new Error("connect: connection refused");
    },
  });
  try {
    await h.createPod("http", {
      containers: [
        {
          name: "app",
          image: "busybox:1.36",
          ports: [{ name: "web", containerPort: 8080 }],
          readinessProbe: {
            httpGet: { host: "127.0.0.1", port: server.port!, path: "/healthz" },
            periodSeconds: 5,
          },
          livenessProbe: { tcpSocket: { port: "web" }, periodSeconds: 5, failureThreshold: 5 },
        },
      ],
    });
    const pod = await h.waitPod("http", (p) => cs(p)?.state?.running);
    await waitFor(async () =>
      (await h.eventMessages("http")).includes(
        "Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500",
      ),
    );
    status = 302;
    h.clock.advance(5_000);
    await h.waitPod("http", (p) => ready(p) === "True");
    expect(dialed[0]).toBe(`${pod.status!.podIP}:8080`);
    await waitFor(async () =>
      (await h.eventMessages("http")).includes(
        `Unhealthy: Liveness probe failed: dial tcp ${pod.status!.podIP}:8080: connect: connection refused`,
      ),
    );
  } finally {
    server.stop(true);
  }
});

test("a restarted agent keeps published readiness instead of flapping it", async () => {
  healthy.ready = true;
  await h.createPod("steady", {
    containers: [{ name: "app", image: "busybox:1.36", readinessProbe: probe("ready") }],
  });
  await h.waitPod("steady", (p) => ready(p) === "True");
  await settle();
  const rv = (await h.getPod("steady")).metadata.resourceVersion;
  const writes: string[] = [];
  const stop = await h.client.watch("pods", { resourceVersion: rv }, (e) => {
    writes.push(`${e.type} ready=${ready(e.object as Pod)}`);
  });
  await h.restartAgent();
  await settle();
  await settle();
  stop();
  expect(writes).toEqual([]);
  expect((await h.getPod("steady")).metadata.resourceVersion).toBe(rv);
});

test("when the sandbox dies the pod starts over from its init containers", async () => {
  await h.createPod("reborn", { initContainers: [{ name: "setup", image: "busybox:1.36" }] });
  let pod = await h.waitPod("reborn", (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
  const uid = pod.metadata.uid!;
  h.fake.exit(h.host.find(uid, "setup")!.id, 0);
  await h.waitPod("reborn", (p) => cs(p)?.state?.running);
  h.clock.advance(60_000);
  // The network namespace is gone: the runtime stops everything in it.
  await h.fake.stopPodSandbox(uid);
  pod = await h.waitPod("reborn", (p) => p.status?.initContainerStatuses?.[0]?.restartCount === 1);
  expect(h.host.find(uid, "setup")!.state).toBe("running");
  expect(h.host.sandboxes.get(uid)!.status.ready).toBe(true);
  h.fake.exit(h.host.find(uid, "setup")!.id, 0);
  pod = await h.waitPod("reborn", (p) => cs(p).restartCount === 1 && cs(p).state?.running);
  expect(h.host.started.filter((c) => c.podUid === uid).map((c) => `${c.name}#${c.attempt}`)).toEqual([
    "setup#0",
    "app#0",
    "setup#1",
    "app#1",
  ]);
});
