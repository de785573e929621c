import { expect, test } from "bun:test";
import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1";
import { RuntimeError } from "../seams/container-runtime.ts";
import { type ConfigSources, expand, resolveEnv, serviceLinkEnv } from "./env.ts";

const b64 = (s: string) => btoa(s);
const sources: ConfigSources = {
  async configMap(ns, name) {
    if (ns === "team" && name === "settings")
      return { data: { MODE: "fast", "bad key": "x", LEVEL: "3" } } as ConfigMap;
    return undefined;
  },
  async secret(ns, name) {
    if (ns === "team" && name === "creds")
      return { data: { password: b64("s3cret"), USER: b64("admin") } } as Secret;
    return undefined;
  },
};
const placement = {
  podIP: "10.88.0.7",
  hostIP: "192.168.7.2",
  nodeAllocatable: { cpuMillis: 2000, memoryBytes: 4 << 30 },
};

function pod(env: NonNullable<Pod["spec"]>["containers"][number]): Pod {
  return {
    metadata: {
      name: "p1",
      namespace: "team",
      uid: "u-1",
      labels: { app: "web" },
      annotations: { note: "hi" },
    },
    spec: { nodeName: "node-1", serviceAccountName: "builder", containers: [env] },
  };
}

test("expand follows Kubernetes $(VAR) rules", () => {
  const vars: Record<string, string> = { A: "1", B: "two" };
  const look = (n: string) => vars[n];
  expect(expand("x$(A)y$(B)", look)).toBe("x1ytwo");
  expect(expand("$(MISSING)", look)).toBe("$(MISSING)");
  expect(expand("$$(A)", look)).toBe("$(A)");
  expect(expand("$A $(A", look)).toBe("$A $(A");
  expect(expand("cost: 5$", look)).toBe("cost: 5$");
});

test("env resolves value, valueFrom and envFrom in the kubelet's order", async () => {
  const p = pod({
    name: "app",
    image: "busybox",
    resources: { limits: { memory: "64Mi" }, requests: { cpu: "250m" } },
    envFrom: [{ configMapRef: { name: "settings" } }, { prefix: "S_", secretRef: { name: "creds" } }],
    env: [
      { name: "GREETING", value: "hello $(S_USER) in $(MODE) mode" },
      { name: "LEVEL", value: "9" },
      { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
      { name: "MODE_COPY", valueFrom: { configMapKeyRef: { name: "settings", key: "MODE" } } },
      { name: "OPTIONAL", valueFrom: { configMapKeyRef: { name: "nope", key: "x", optional: true } } },
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
      { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: "NOTE", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
      { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
      { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
      { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
      { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
      { name: "CPU_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
    ],
  });
  const env = await resolveEnv(p, p.spec!.containers[0]!, sources, placement, {
    WEB_SERVICE_HOST: "10.96.0.5",
    LEVEL: "svc",
  });
  expect(env).toEqual([
    { name: "MODE", value: "fast" },
    { name: "LEVEL", value: "9" },
    { name: "S_password", value: "s3cret" },
    { name: "S_USER", value: "admin" },
    { name: "GREETING", value: "hello admin in fast mode" },
    { name: "PASSWORD", value: "s3cret" },
    { name: "MODE_COPY", value: "fast" },
    { name: "OPTIONAL", value: "" },
    { name: "POD", value: "p1" },
    { name: "NS", value: "team" },
    { name: "UID", value: "u-1" },
    { name: "APP", value: "web" },
    { name: "NOTE", value: "hi" },
    { name: "NODE", value: "node-1" },
    { name: "SA", value: "builder" },
    { name: "IP", value: "10.88.0.7" },
    { name: "HOST", value: "192.168.7.2" },
    { name: "MEM_MI", value: "64" },
    { name: "CPU_M", value: "250" },
    // No cpu limit: the node's allocatable, in whole cores rounded up.
    { name: "CPU_LIMIT", value: "2" },
    { name: "WEB_SERVICE_HOST", value: "10.96.0.5" },
  ]);
});

test("missing sources are CreateContainerConfigError with the kubelet's message", async () => {
  const cases: [NonNullable<Pod["spec"]>["containers"][number]["env"], string][] = [
    [
      [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "k" } } }],
      'configmap "nope" not found',
    ],
    [
      [{ name: "X", valueFrom: { configMapKeyRef: { name: "settings", key: "k" } } }],
      "couldn't find key k in ConfigMap team/settings",
    ],
    [[{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }], 'secret "nope" not found'],
    [
      [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "k" } } }],
      "couldn't find key k in Secret team/creds",
    ],
  ];
  for (const [env, message] of cases) {
    const p = pod({ name: "app", image: "busybox", env });
    const err = await resolveEnv(p, p.spec!.containers[0]!, sources, placement).catch((e) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect(err.reason).toBe("CreateContainerConfigError");
    expect(err.message).toBe(message);
  }
  const p = pod({ name: "app", image: "busybox", envFrom: [{ secretRef: { name: "gone" } }] });
  expect((await resolveEnv(p, p.spec!.containers[0]!, sources, placement).catch((e) => e)).message).toBe(
    'secret "gone" not found',
  );
});

test("service link variables look like docker links", () => {
  const env = serviceLinkEnv([
    {
      metadata: { name: "redis-primary" },
      spec: { clusterIP: "10.96.0.11", ports: [{ name: "redis", port: 6379, protocol: "TCP" }] },
    },
    { metadata: { name: "headless" }, spec: { clusterIP: "None", ports: [{ port: 80 }] } },
  ]);
  expect(env).toEqual({
    REDIS_PRIMARY_SERVICE_HOST: "10.96.0.11",
    REDIS_PRIMARY_SERVICE_PORT: "6379",
    REDIS_PRIMARY_SERVICE_PORT_REDIS: "6379",
    REDIS_PRIMARY_PORT: "tcp://10.96.0.11:6379",
    REDIS_PRIMARY_PORT_6379_TCP: "tcp://10.96.0.11:6379",
    REDIS_PRIMARY_PORT_6379_TCP_PROTO: "tcp",
    REDIS_PRIMARY_PORT_6379_TCP_PORT: "6379",
    REDIS_PRIMARY_PORT_6379_TCP_ADDR: "10.96.0.11",
  });
});
