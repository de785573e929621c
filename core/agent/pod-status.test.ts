import { expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { computePodStatus, podPhase, sameStatus } from "./pod-status.ts";
import { dnsConfig, sandboxConfig } from "./sandbox.ts";

const running: ContainerStatus = {
  name: "a",
  image: "x",
  imageID: "",
  ready: true,
  restartCount: 0,
  state: { running: {} },
};
const waiting: ContainerStatus = {
  ...running,
  ready: false,
  state: { waiting: { reason: "ContainerCreating" } },
};
const exited = (exitCode: number): ContainerStatus => ({
  ...running,
  ready: false,
  state: { terminated: { exitCode } },
});
const backoff = (exitCode: number): ContainerStatus => ({
  ...running,
  ready: false,
  state: { waiting: { reason: "CrashLoopBackOff" } },
  lastState: { terminated: { exitCode } },
});
const pod = (restartPolicy: string): Pod => ({ spec: { restartPolicy, containers: [] } });

test("podPhase follows the kubelet's getPhase", () => {
  expect(podPhase(pod("Always"), [], [waiting])).toBe("Pending");
  expect(podPhase(pod("Always"), [], [running, waiting])).toBe("Pending");
  expect(podPhase(pod("Always"), [], [running])).toBe("Running");
  expect(podPhase(pod("Always"), [], [backoff(1)])).toBe("Running");
  expect(podPhase(pod("Always"), [], [exited(0)])).toBe("Running");
  expect(podPhase(pod("OnFailure"), [], [exited(0)])).toBe("Succeeded");
  expect(podPhase(pod("OnFailure"), [], [backoff(1)])).toBe("Running");
  expect(podPhase(pod("Never"), [], [exited(0), exited(1)])).toBe("Failed");
  expect(podPhase(pod("Never"), [], [exited(0), running])).toBe("Running");
  expect(podPhase(pod("Never"), [], [exited(0), exited(0)])).toBe("Succeeded");
  // Init containers
  expect(podPhase(pod("Always"), [running], [waiting])).toBe("Pending");
  expect(podPhase(pod("Always"), [exited(0)], [running])).toBe("Running");
  expect(podPhase(pod("Never"), [exited(1)], [waiting])).toBe("Failed");
  expect(podPhase(pod("Always"), [backoff(1)], [waiting])).toBe("Pending");
});

test("sameStatus ignores key order and undefined fields", () => {
  expect(sameStatus({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).toBe(true);
  expect(sameStatus({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  expect(sameStatus({ a: null }, { a: null })).toBe(true);
  expect(sameStatus({ a: null }, {})).toBe(false);
});

test("dnsPolicy: ClusterFirst, Default, None with dnsConfig, host network", () => {
  const cluster = { nameserver: "10.96.0.10", searchDomain: "cluster.local" };
  const hostDns = { nameservers: ["192.168.1.1"], searches: ["lan"] };
  const p = (spec: object): Pod => ({
    metadata: { name: "p", namespace: "shop" },
    spec: { containers: [], ...spec },
  });
  expect(dnsConfig(p({}), cluster, hostDns)).toEqual({
    nameservers: ["10.96.0.10"],
    searches: ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
    options: ["ndots:5"],
  });
  expect(dnsConfig(p({ dnsPolicy: "Default" }), cluster, hostDns)).toEqual({ ...hostDns, options: [] });
  expect(dnsConfig(p({ hostNetwork: true }), cluster, hostDns).nameservers).toEqual(["192.168.1.1"]);
  expect(
    dnsConfig(p({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), cluster, hostDns).nameservers,
  ).toEqual(["10.96.0.10"]);
  expect(
    dnsConfig(
      p({
        dnsPolicy: "None",
        dnsConfig: {
          nameservers: ["1.1.1.1"],
          searches: ["x.y"],
          options: [{ name: "ndots", value: "2" }, { name: "edns0" }],
        },
      }),
      cluster,
      hostDns,
    ),
  ).toEqual({ nameservers: ["1.1.1.1"], searches: ["x.y"], options: ["ndots:2", "edns0"] });
  expect(
    dnsConfig(p({ dnsConfig: { options: [{ name: "ndots", value: "1" }] } }), cluster, hostDns).options,
  ).toEqual(["ndots:1"]);
});

test("sandbox: hostname, pod-level limits only when every container sets them", () => {
  const cluster = { nameserver: "10.96.0.10", searchDomain: "cluster.local" };
  const limited = (mem?: string) => ({
    name: `c${mem}`,
    image: "x",
    resources: mem ? { limits: { memory: mem, cpu: "500m" } } : {},
  });
  const sb = sandboxConfig(
    {
      metadata: { name: "web-1", namespace: "default", uid: "u" },
      spec: {
        hostname: "custom",
        containers: [limited("64Mi"), limited("32Mi")],
        initContainers: [limited("128Mi")],
      },
    },
    cluster,
  );
  expect(sb.hostname).toBe("custom");
  expect(sb.resources).toEqual({ cpuLimitMillis: 1000, memoryLimitBytes: 128 << 20 });
  const open = sandboxConfig(
    { metadata: { name: "web-2", uid: "v" }, spec: { containers: [limited("64Mi"), limited()] } },
    cluster,
  );
  expect(open.hostname).toBe("web-2");
  expect(open.resources).toBeUndefined();
});

test("readiness gates hold Ready back; conditions and fields of others are kept", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const base: Pod = {
    metadata: { name: "g", namespace: "default", uid: "u" },
    spec: {
      readinessGates: [{ conditionType: "example.com/lb" }],
      containers: [{ name: "app", image: "x" }],
    },
    status: { phase: "Running", nominatedNodeName: "n1", conditions: [] },
  };
  const views = new Map([
    [
      "app",
      {
        current: {
          id: "c1",
          podUid: "u",
          name: "app",
          attempt: 0,
          image: "x",
          imageId: "sha256:1",
          state: "running" as const,
          createdAt: "2026-01-01T00:00:00Z",
          startedAt: "2026-01-01T00:00:00Z",
        },
        restartCount: 0,
        ready: true,
        started: true,
      },
    ],
  ]);
  const input = {
    now,
    runtimeName: "crun",
    sandbox: { podUid: "u", ready: true, ip: "10.88.0.9", createdAt: "" },
    views,
  };
  let s = computePodStatus({ ...input, pod: base });
  const ready = () => s.conditions!.find((c) => c.type === "Ready")!;
  expect(ready()).toMatchObject({
    status: "False",
    reason: "ReadinessGatesNotReady",
    message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.',
  });
  expect(s.conditions!.find((c) => c.type === "ContainersReady")!.status).toBe("True");
  expect(s.nominatedNodeName).toBe("n1");
  const gate = { type: "example.com/lb", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" };
  s = computePodStatus({
    ...input,
    pod: { ...base, status: { ...s, conditions: [...s.conditions!, gate] } },
  });
  expect(ready().status).toBe("True");
  expect(s.conditions!.find((c) => c.type === "example.com/lb")).toEqual(gate);
});

test("podPhase with a sidecar: Running while it runs after the app succeeded, Succeeded once it stopped", () => {
  const pod: Pod = {
    spec: {
      restartPolicy: "Never",
      initContainers: [{ name: "proxy", restartPolicy: "Always" }],
      containers: [{ name: "app" }],
    },
  };
  const done = { name: "app", state: { terminated: { exitCode: 0 } } } as ContainerStatus;
  const side = (state: object, started = true) => ({ name: "proxy", state, started }) as ContainerStatus;
  expect(podPhase(pod, [side({ running: {} })], [done])).toBe("Running");
  expect(podPhase(pod, [side({ terminated: { exitCode: 137 } })], [done])).toBe("Succeeded");
  const waitingApp = { name: "app", state: { waiting: { reason: "PodInitializing" } } } as ContainerStatus;
  expect(podPhase(pod, [side({ running: {} }, false)], [waitingApp])).toBe("Pending");
  // a sidecar restarting after the pod was initialized keeps it out of Pending
  const runningApp = { name: "app", state: { running: {} } } as ContainerStatus;
  expect(podPhase(pod, [side({ waiting: { reason: "CrashLoopBackOff" } })], [runningApp], true)).toBe(
    "Running",
  );
});

test("a sidecar's hostPorts are the pod's; a plain init container's are not", () => {
  const sb = sandboxConfig(
    {
      metadata: { name: "p", uid: "u" },
      spec: {
        initContainers: [
          { name: "setup", ports: [{ containerPort: 1, hostPort: 8001 }] },
          { name: "proxy", restartPolicy: "Always", ports: [{ containerPort: 15001, hostPort: 8002 }] },
        ],
        containers: [{ name: "app", ports: [{ containerPort: 80, hostPort: 8080 }] }],
      },
    },
    { nameserver: "10.96.0.10", searchDomain: "cluster.local" },
  );
  expect(sb.hostPorts.map((p) => p.hostPort)).toEqual([8002, 8080]);
});
