import { afterEach, beforeEach, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import { podResources, qosClass } from "./container-config.ts";
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
const running = (p: Pod) => p.status?.phase === "Running";

test("env, command, volumes and securityContext reach the runtime's ContainerConfig", async () => {
  await h.client.create("configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "site", namespace: "default" },
    data: { "index.html": "<h1>hi</h1>", "app.conf": "x=1" },
    binaryData: { "logo.bin": btoa("\x00\x01") },
  });
  await h.client.create("secrets", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "tls", namespace: "default" },
    data: { "tls.key": btoa("KEY"), token: btoa("t0k") },
  });
  await h.createPod(
    "cfg",
    {
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000 },
      containers: [
        {
          name: "app",
          image: "busybox:1.36",
          command: ["sh", "-c"],
          args: ["echo $(GREETING) && sleep $(DELAY)"],
          workingDir: "/work",
          env: [
            { name: "DELAY", value: "5" },
            { name: "GREETING", value: "hi-$(POD)" },
            { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "TOKEN", valueFrom: { secretKeyRef: { name: "tls", key: "token" } } },
          ],
          securityContext: {
            runAsUser: 0,
            readOnlyRootFilesystem: true,
            capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] },
          },
          volumeMounts: [
            { name: "html", mountPath: "/usr/share/nginx/html" },
            { name: "conf", mountPath: "/etc/app/app.conf", subPath: "app.conf" },
            { name: "certs", mountPath: "/certs" },
            { name: "scratch", mountPath: "/tmp" },
            { name: "host", mountPath: "/host", readOnly: true },
            { name: "info", mountPath: "/etc/podinfo" },
          ],
        },
      ],
      volumes: [
        { name: "html", configMap: { name: "site", items: [{ key: "index.html", path: "index.html" }] } },
        { name: "conf", configMap: { name: "site" } },
        { name: "certs", secret: { secretName: "tls", defaultMode: 0o400 } },
        { name: "scratch", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } },
        { name: "host", hostPath: { path: "/var/log", type: "Directory" } },
        {
          name: "info",
          downwardAPI: {
            items: [
              { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
              { path: "name", fieldRef: { fieldPath: "metadata.name" } },
            ],
          },
        },
      ],
    },
    { labels: { app: "cfg", tier: "web" } },
  );
  const pod = await h.waitPod("cfg", running);
  const config = h.host.config(h.host.find(pod.metadata.uid!, "app")!.id)!;
  expect(config.command).toEqual(["sh", "-c"]);
  expect(config.args).toEqual(["echo hi-$(POD) && sleep 5"]);
  expect(config.workingDir).toBe("/work");
  expect(config.attempt).toBe(0);
  expect(config.podName).toBe("cfg");
  expect(config.env).toEqual([
    { name: "DELAY", value: "5" },
    // POD is defined after GREETING, so it stays unexpanded, exactly as in Kubernetes.
    { name: "GREETING", value: "hi-$(POD)" },
    { name: "POD", value: "cfg" },
    { name: "TOKEN", value: "t0k" },
  ]);
  expect(config.security).toEqual({
    runAsUser: 0,
    runAsGroup: 3000,
    supplementalGroups: [2000],
    readOnlyRootFilesystem: true,
    capabilitiesAdd: ["NET_ADMIN"],
    capabilitiesDrop: ["ALL"],
  });
  const mounts = Object.fromEntries(config.mounts.map((m) => [m.volume, m]));
  expect(mounts.html).toEqual({
    volume: "html",
    source: { type: "files", files: { "index.html": "<h1>hi</h1>" }, mode: 0o644 },
    containerPath: "/usr/share/nginx/html",
    readOnly: true,
  });
  expect(mounts.conf!.subPath).toBe("app.conf");
  const confFiles = (mounts.conf!.source as { files: Record<string, unknown> }).files;
  expect(Object.keys(confFiles).sort()).toEqual(["app.conf", "index.html", "logo.bin"]);
  expect(confFiles["logo.bin"]).toEqual(new Uint8Array([0, 1]));
  expect(mounts.certs!.source).toEqual({
    type: "files",
    files: { "tls.key": new TextEncoder().encode("KEY"), token: new TextEncoder().encode("t0k") },
    mode: 0o400,
  });
  expect(mounts.scratch!.source).toEqual({ type: "emptyDir", medium: "Memory", sizeLimitBytes: 64 << 20 });
  expect(mounts.scratch!.readOnly).toBe(false);
  expect(mounts.host).toMatchObject({
    source: { type: "hostPath", path: "/var/log", hostPathType: "Directory" },
    readOnly: true,
  });
  expect((mounts.info!.source as { files: Record<string, string> }).files).toEqual({
    labels: 'app="cfg"\ntier="web"',
    name: "cfg",
  });
});

test("a missing configMap key is CreateContainerConfigError until it appears", async () => {
  await h.createPod("needs-cm", {
    containers: [
      {
        name: "app",
        image: "busybox:1.36",
        env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "late", key: "x" } } }],
      },
    ],
  });
  let pod = await h.waitPod(
    "needs-cm",
    (p) => cs(p)?.state?.waiting?.reason === "CreateContainerConfigError",
  );
  expect(cs(pod).state!.waiting!.message).toBe('configmap "late" not found');
  expect(pod.status!.phase).toBe("Pending");
  await h.waitEvents("needs-cm", 'Failed: Error: configmap "late" not found');
  await h.client.create("configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "late", namespace: "default" },
    data: { x: "42" },
  });
  h.clock.advance(10_000);
  pod = await h.waitPod("needs-cm", running);
  expect(h.host.config(h.host.find(pod.metadata.uid!, "app")!.id)!.env).toContainEqual({
    name: "X",
    value: "42",
  });
});

test("a missing configMap volume keeps the pod ContainerCreating with a FailedMount event", async () => {
  await h.createPod("needs-vol", {
    containers: [{ name: "app", image: "busybox:1.36", volumeMounts: [{ name: "c", mountPath: "/c" }] }],
    volumes: [{ name: "c", configMap: { name: "absent" } }],
  });
  const pod = await h.waitPod("needs-vol", (p) => cs(p)?.state?.waiting?.reason === "ContainerCreating");
  expect(pod.status!.phase).toBe("Pending");
  await h.waitEvents(
    "needs-vol",
    'FailedMount: MountVolume.SetUp failed for volume "c" : configmap "absent" not found',
  );
});

test("qosClass follows requests and limits", () => {
  const pod = (resources: object[]): Pod => ({
    spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: "x", resources: r })) },
  });
  expect(qosClass(pod([{}]))).toBe("BestEffort");
  expect(qosClass(pod([{ limits: { cpu: "1", memory: "1Gi" } }]))).toBe("Guaranteed");
  expect(
    qosClass(pod([{ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1000m", memory: "1Gi" } }])),
  ).toBe("Guaranteed");
  expect(qosClass(pod([{ limits: { cpu: "1", memory: "1Gi" } }, {}]))).toBe("Burstable");
  expect(qosClass(pod([{ requests: { cpu: "100m" } }]))).toBe("Burstable");
});

test("service link env: the namespace's Services, and always the kubernetes Service", async () => {
  const svc = (namespace: string, name: string, clusterIP: string, port: number) =>
    h.client.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace },
      spec: { clusterIP, ports: [{ port, protocol: "TCP" }] },
    });
  await h.client.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
  await svc("default", "kubernetes", "10.96.0.1", 443);
  await svc("team", "db", "10.96.0.20", 5432);
  const create = (name: string, enableServiceLinks?: boolean) =>
    h.client.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "team" },
      spec: { nodeName: "node-1", enableServiceLinks, containers: [{ name: "app", image: "busybox:1.36" }] },
    });
  await create("linked");
  await create("unlinked", false);
  const envOf = async (name: string) => {
    const pod = await waitFor(async () => {
      const p = await h.client.get<Pod & KubeObject>("pods", "team", name);
      return p.status?.phase === "Running" ? p : undefined;
    });
    const env = h.host.config(h.host.find(pod.metadata.uid!, "app")!.id)!.env;
    return Object.fromEntries(env.map((e) => [e.name, e.value]));
  };
  const linked = await envOf("linked");
  expect(linked.DB_SERVICE_HOST).toBe("10.96.0.20");
  expect(linked.KUBERNETES_SERVICE_HOST).toBe("10.96.0.1");
  expect(linked.KUBERNETES_SERVICE_PORT).toBe("443");
  const unlinked = await envOf("unlinked");
  expect(unlinked.DB_SERVICE_HOST).toBeUndefined();
  expect(unlinked.KUBERNETES_SERVICE_HOST).toBe("10.96.0.1");
});

test("runAsNonRoot with runAsUser 0 is CreateContainerConfigError", async () => {
  await h.createPod("rootless", {
    securityContext: { runAsNonRoot: true },
    containers: [{ name: "app", image: "busybox:1.36", securityContext: { runAsUser: 0 } }],
  });
  const pod = await h.waitPod(
    "rootless",
    (p) => cs(p)?.state?.waiting?.reason === "CreateContainerConfigError",
  );
  expect(cs(pod).state!.waiting!.message).toBe(
    `container's runAsUser breaks non-root policy (pod: "rootless_default(${pod.metadata.uid})", container: app)`,
  );
  expect(h.host.find(pod.metadata.uid!, "app")).toBeUndefined();
});

test("pod-level limits: sidecars add to the app containers; an init container runs beside earlier sidecars", () => {
  const limited = (name: string, memory: string, sidecar = false) => ({
    name,
    image: "x",
    resources: { limits: { memory } },
    ...(sidecar ? { restartPolicy: "Always" } : {}),
  });
  const pod = (initContainers: ReturnType<typeof limited>[]) =>
    ({ spec: { containers: [limited("app", "64Mi")], initContainers } }) as Pod;
  expect(podResources(pod([limited("proxy", "32Mi", true)]))?.memoryLimitBytes).toBe(96 << 20);
  expect(
    podResources(pod([limited("proxy", "32Mi", true), limited("migrate", "128Mi")]))?.memoryLimitBytes,
  ).toBe(160 << 20);
});

test("runAsNonRoot is checked against the image's user as the kubelet does", async () => {
  h.host.addImage("root:1");
  h.host.addImage("named:1", "nobody:nogroup");
  h.host.addImage("numeric:1", "1000:1000");
  h.host.addImage("zero:1", "0");
  const nonRoot = (name: string, image: string, runAsUser?: number) =>
    h.createPod(name, {
      securityContext: { runAsNonRoot: true, ...(runAsUser !== undefined ? { runAsUser } : {}) },
      containers: [{ name: "app", image }],
    });
  const refused = async (name: string) => {
    const pod = await h.waitPod(name, (p) => cs(p)?.state?.waiting?.reason === "CreateContainerConfigError");
    expect(h.host.find(pod.metadata.uid!, "app")).toBeUndefined(); // never started
    return {
      message: cs(pod).state!.waiting!.message,
      who: `(pod: "${name}_default(${pod.metadata.uid})", container: app)`,
    };
  };
  await nonRoot("root-image", "root:1");
  await nonRoot("zero-image", "zero:1");
  await nonRoot("named-image", "named:1");
  await nonRoot("numeric-image", "numeric:1");
  await nonRoot("explicit-user", "root:1", 1000);
  for (const name of ["root-image", "zero-image"]) {
    const { message, who } = await refused(name);
    expect(message).toBe(`container has runAsNonRoot and image will run as root ${who}`);
  }
  const named = await refused("named-image");
  expect(named.message).toBe(
    `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root ${named.who}`,
  );
  await h.waitPod("numeric-image", running);
  await h.waitPod("explicit-user", running);
});
