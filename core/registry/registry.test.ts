import { describe, expect, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { Pod, Service } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { deploymentManifest, podManifest as pod, reason, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const deployment = deploymentManifest;

describe("create", () => {
  test("fills metadata, defaults and apiVersion/kind", async () => {
    const d = (await fx.registry.create("deployments.apps", deployment("web"))) as Deployment;
    expect(d.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.metadata?.namespace).toBe("default");
    expect(d.metadata?.generation).toBe(1);
    expect(d.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(d.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(d.apiVersion).toBe("apps/v1");
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" },
    });
    expect(d.spec?.revisionHistoryLimit).toBe(10);
    expect(d.spec?.progressDeadlineSeconds).toBe(600);
    const podSpec = d.spec!.template.spec!;
    expect(podSpec.restartPolicy).toBe("Always");
    expect(podSpec.dnsPolicy).toBe("ClusterFirst");
    expect(podSpec.schedulerName).toBe("default-scheduler");
    expect(podSpec.terminationGracePeriodSeconds).toBe(30);
    expect(podSpec.securityContext).toEqual({});
    const c = podSpec.containers[0]!;
    expect(c.ports?.[0]?.protocol).toBe("TCP");
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(c.terminationMessagePath).toBe("/dev/termination-log");
    expect(c.terminationMessagePolicy).toBe("File");
    const got = await fx.registry.get("deployments.apps", "default", "web");
    expect(got).toEqual(d as KubeObject);
  });

  test("a hostNetwork pod's containerPorts become its hostPorts; a workload template's do not", async () => {
    const ports = [{ containerPort: 9100 }];
    const p = (await fx.registry.create(
      "pods",
      pod("exporter", { hostNetwork: true, containers: [{ name: "c", image: "busybox", ports }] }),
    )) as Pod;
    expect(p.spec!.containers[0]!.ports).toEqual([{ containerPort: 9100, hostPort: 9100, protocol: "TCP" }]);
    const template = deployment("exporter");
    (template.spec as Deployment["spec"])!.template.spec!.hostNetwork = true;
    const d = (await fx.registry.create("deployments.apps", template)) as Deployment;
    expect(d.spec!.template.spec!.containers[0]!.ports![0]!.hostPort).toBeUndefined();
  });

  test("generateName appends 5 characters of the Kubernetes alphabet", async () => {
    const p = await fx.registry.create<KubeObject>("pods", {
      ...pod(""),
      metadata: { generateName: "web-" },
    });
    expect(p.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const long = await fx.registry.create<KubeObject>("pods", {
      ...pod(""),
      metadata: { generateName: `${"x".repeat(70)}-` },
    });
    expect(long.metadata.name).toHaveLength(63);
  });

  test("pods get status Pending with a QoS class and latest images pull Always", async () => {
    const p = (await fx.registry.create("pods", pod("a"))) as Pod;
    expect(p.status).toEqual({ phase: "Pending", qosClass: "BestEffort" });
    expect(p.spec?.containers[0]?.imagePullPolicy).toBe("Always");
    expect(p.spec?.serviceAccountName).toBe("default");
    expect(p.spec?.tolerations?.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`)).toEqual([
      "node.kubernetes.io/not-ready:NoExecute:300",
      "node.kubernetes.io/unreachable:NoExecute:300",
    ]);
  });

  test("namespace must exist; cluster-scoped objects have none", async () => {
    expect(
      await reason(fx.registry.create("pods", { ...pod("x"), metadata: { name: "x", namespace: "nope" } })),
    ).toBe('404 NotFound: namespaces "nope" not found');
    const ns = await fx.registry.create<KubeObject>("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "demo", namespace: "x" },
    });
    expect(ns.metadata.namespace).toBeUndefined();
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.metadata.labels).toEqual({ "kubernetes.io/metadata.name": "demo" });
    expect((ns.spec as { finalizers: string[] }).finalizers).toEqual(["kubernetes"]);
  });

  test("bootstrap creates the system namespaces once", async () => {
    await fx.registry.bootstrap();
    const names = (await fx.registry.list("namespaces")).items.map((n) => n.metadata.name);
    expect(names).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
  });

  test("AlreadyExists names the object", async () => {
    await fx.registry.create("deployments.apps", deployment("web"));
    expect(await reason(fx.registry.create("deployments.apps", deployment("web")))).toBe(
      '409 AlreadyExists: deployments.apps "web" already exists',
    );
  });

  test("legacy extensions/v1beta1 Deployment is stored as apps/v1 with a defaulted selector", async () => {
    const legacy = deployment("old");
    legacy.apiVersion = "extensions/v1beta1";
    delete (legacy.spec as { selector?: unknown }).selector;
    const d = (await fx.registry.create("deployments.apps", legacy)) as Deployment;
    expect(d.apiVersion).toBe("apps/v1");
    expect(d.spec?.selector).toEqual({ matchLabels: { app: "old" } });
    expect(d.metadata?.labels).toEqual({ app: "old" });
    expect(d.spec?.strategy?.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 1 });
    expect(d.spec?.revisionHistoryLimit).toBe(2147483647);
    expect(fx.warnings).toEqual([
      "extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment",
    ]);
  });

  test("a mismatched kind is a BadRequest", async () => {
    expect(await reason(fx.registry.create("pods", deployment("x")))).toContain("400 BadRequest");
  });

  test("dryRun returns the would-be object without storing it", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("dry"), { dryRun: true });
    expect(d.metadata.uid).toBeDefined();
    expect(await fx.registry.tryGet("deployments.apps", "default", "dry")).toBeUndefined();
  });

  test("input objects are not mutated", async () => {
    const input = deployment("pure");
    const copy = structuredClone(input);
    await fx.registry.create("deployments.apps", input);
    expect(input).toEqual(copy);
  });
});

describe("validation", () => {
  test("invalid names, missing image, selector mismatch, negative replicas", async () => {
    const bad = deployment("Bad_Name", { app: "x" });
    const spec = bad.spec as Deployment["spec"] & {
      replicas: number;
      template: { metadata: { labels: object } };
    };
    (spec as { replicas: number }).replicas = -1;
    (spec.template.metadata as { labels: object }).labels = { app: "y" };
    (spec.template.spec!.containers[0] as { image?: string }).image = undefined;
    const err = (await fx.registry.create("deployments.apps", bad).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(422);
    const fields = err.details?.causes?.map((c: { field?: string }) => c.field);
    expect(fields).toContain("metadata.name");
    expect(fields).toContain("spec.template.metadata.labels");
    expect(fields).toContain("spec.template.spec.containers[0].image");
    expect(fields).toContain("spec.replicas");
    expect(err.message).toStartWith('Deployment.apps "Bad_Name" is invalid: ');
  });

  test("owner references need their identity and at most one controller", async () => {
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true };
    const p = pod("owned");
    p.metadata.ownerReferences = [
      owner,
      { ...owner, uid: "u2" },
      { apiVersion: "v1", kind: "X", name: "", uid: "u3" },
    ];
    const err = (await fx.registry.create("pods", p).catch((e) => e)) as ApiError;
    expect(err.details?.causes?.map((c: { field?: string }) => c.field)).toEqual([
      "metadata.ownerReferences[2].name",
      "metadata.ownerReferences",
    ]);
  });

  test("resource quantities parse and requests stay within limits", async () => {
    const p = pod("res", {
      containers: [
        {
          name: "c",
          image: "a",
          resources: { requests: { cpu: "2", memory: "lots" }, limits: { cpu: "500m" } },
        },
      ],
    });
    const err = (await fx.registry.create("pods", p).catch((e) => e)) as ApiError;
    expect(
      err.details?.causes?.map((c: { field?: string; message?: string }) => `${c.field}: ${c.message}`),
    ).toEqual([
      "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m',
    ]);
    const ok = pod("ok", {
      containers: [
        {
          name: "c",
          image: "a",
          resources: { requests: { cpu: 0.5 }, limits: { cpu: "1", memory: "64Mi" } },
        },
      ],
    });
    const created = (await fx.registry.create("pods", ok)) as Pod;
    expect(created.spec?.containers[0]?.resources?.requests as unknown).toEqual({ cpu: 0.5, memory: "64Mi" });
    expect(created.status?.qosClass).toBe("Burstable");
  });

  test("duplicate container names and bad ports", async () => {
    const p = pod("dup", {
      containers: [
        { name: "c", image: "a", ports: [{ containerPort: 70000 }] },
        { name: "c", image: "b" },
      ],
    });
    const err = (await fx.registry.create("pods", p).catch((e) => e)) as ApiError;
    expect(err.details?.causes?.map((c: { field?: string }) => c.field)).toEqual([
      "spec.containers[0].ports[0].containerPort",
      "spec.containers[1].name",
    ]);
  });

  test("services: DNS-1035 names, ports required, defaults", async () => {
    expect(
      await reason(
        fx.registry.create("services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "1svc" },
          spec: { ports: [{ port: 80 }] },
        }),
      ),
    ).toContain("metadata.name: Invalid value");
    expect(
      await reason(
        fx.registry.create("services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "svc" },
          spec: {},
        }),
      ),
    ).toContain("spec.ports: Required value");
    const s = (await fx.registry.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    })) as Service;
    expect(s.spec?.type).toBe("ClusterIP");
    expect(s.spec?.sessionAffinity).toBe("None");
    expect(s.spec?.ports?.[0]).toEqual({ port: 80, protocol: "TCP", targetPort: 80 });
    expect(s.spec?.ipFamilies).toEqual(["IPv4"]);
  });
});

describe("update", () => {
  test("generation moves on spec changes only; status is kept", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("web"));
    const withStatus = await fx.registry.updateStatus<KubeObject>("deployments.apps", {
      ...d,
      status: { replicas: 1, observedGeneration: 1 },
    });
    expect(withStatus.metadata.generation).toBe(1);
    const labelled = await fx.registry.update<KubeObject>("deployments.apps", {
      ...withStatus,
      metadata: { ...withStatus.metadata, labels: { tier: "web" } },
      status: { replicas: 99 },
    });
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.status).toEqual({ replicas: 1, observedGeneration: 1 });
    const scaled = await fx.registry.update("deployments.apps", {
      ...labelled,
      spec: { ...(labelled.spec as object), replicas: 3 },
    });
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled.metadata.uid).toBe(d.metadata.uid);
    expect(scaled.metadata.creationTimestamp).toBe(d.metadata.creationTimestamp);
  });

  test("updateStatus ignores spec and metadata changes", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("web"));
    const out = await fx.registry.updateStatus("deployments.apps", {
      ...d,
      metadata: { ...d.metadata, labels: { hacked: "yes" } },
      spec: { ...(d.spec as object), replicas: 7 },
      status: { replicas: 2 },
    });
    expect(out.metadata.labels).toBeUndefined();
    expect((out.spec as { replicas: number }).replicas).toBe(1);
    expect(out.status).toEqual({ replicas: 2 });
  });

  test("stale resourceVersion is a Conflict; none means unconditional", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("web"));
    await fx.registry.update("deployments.apps", { ...d, metadata: { ...d.metadata, labels: { a: "1" } } });
    expect(
      await reason(
        fx.registry.update("deployments.apps", { ...d, metadata: { ...d.metadata, labels: { a: "2" } } }),
      ),
    ).toStartWith('409 Conflict: Operation cannot be fulfilled on deployments.apps "web"');
    const { resourceVersion: _, ...meta } = d.metadata;
    const out = await fx.registry.update("deployments.apps", {
      ...d,
      metadata: { ...meta, labels: { a: "3" } },
    });
    expect(out.metadata.labels).toEqual({ a: "3" });
  });

  test("a no-op update writes nothing", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("web"));
    const same = await fx.registry.update("deployments.apps", d);
    expect(same.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
  });

  test("selector is immutable", async () => {
    const d = await fx.registry.create("deployments.apps", deployment("web"));
    const changed = deployment("web", { app: "other" });
    changed.metadata = d.metadata;
    expect(await reason(fx.registry.update("deployments.apps", changed))).toContain(
      "spec.selector: Invalid value",
    );
  });

  test("pod spec is immutable except images; binding nodeName once is allowed", async () => {
    const p = await fx.registry.create("pods", pod("p"));
    const spec = p.spec as Pod["spec"] & object;
    const bound = await fx.registry.update("pods", { ...p, spec: { ...spec, nodeName: "node1" } });
    expect((bound.spec as { nodeName: string }).nodeName).toBe("node1");
    const img = await fx.registry.update("pods", {
      ...bound,
      spec: { ...(bound.spec as object), containers: [{ ...spec.containers[0], image: "busybox:2" }] },
    });
    expect((img.spec as Pod["spec"])?.containers[0]?.image).toBe("busybox:2");
    expect(
      await reason(
        fx.registry.update("pods", { ...img, spec: { ...(img.spec as object), restartPolicy: "Never" } }),
      ),
    ).toContain("spec: Forbidden: pod updates may not change fields");
  });

  test("a Service leaving NodePort drops its nodePorts when the update kept them", async () => {
    const s = await fx.registry.create<KubeObject>("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "np" },
      spec: { type: "NodePort", clusterIP: "10.96.0.20", ports: [{ port: 80, nodePort: 30080 }] },
    });
    const out = await fx.registry.patch("services", "default", "np", "strategic", {
      spec: { type: "ClusterIP" },
    });
    const spec = out.spec as Service["spec"];
    expect(spec?.type).toBe("ClusterIP");
    expect(spec?.ports?.[0]?.nodePort).toBeUndefined();
    expect(spec?.externalTrafficPolicy).toBeUndefined();
    expect(spec?.clusterIP).toBe("10.96.0.20");
    expect((s.spec as Service["spec"])?.externalTrafficPolicy).toBe("Cluster");
  });

  test("service clusterIP is kept when left out and immutable otherwise", async () => {
    const s = await fx.registry.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { clusterIP: "10.96.0.10", ports: [{ port: 80 }] },
    });
    const kept = await fx.registry.update("services", { ...s, spec: { ports: [{ port: 81 }] } });
    expect((kept.spec as Service["spec"])?.clusterIP).toBe("10.96.0.10");
    expect(
      await reason(
        fx.registry.update("services", { ...kept, spec: { clusterIP: "10.96.0.11", ports: [{ port: 81 }] } }),
      ),
    ).toContain("spec.clusterIP: Invalid value");
  });
});

describe("kind specifics", () => {
  test("Secret stringData is folded into base64 data; bad base64 is Invalid", async () => {
    const s = await fx.registry.create<KubeObject>("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { a: "eA==" },
      stringData: { b: "héllo" },
    });
    expect(s.type).toBe("Opaque");
    expect(s.stringData).toBeUndefined();
    expect(s.data).toEqual({ a: "eA==", b: "aMOpbGxv" });
    const bad = await reason(
      fx.registry.create("secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "t" },
        data: { a: "!!" },
      }),
    );
    expect(bad).toContain("data[a]: Invalid value");
  });

  test("immutable ConfigMaps keep their data", async () => {
    const cm = await fx.registry.create<KubeObject>("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "frozen" },
      data: { a: "1" },
      immutable: true,
    });
    expect(await reason(fx.registry.update("configmaps", { ...cm, data: { a: "2" } }))).toContain(
      "data: Forbidden",
    );
    const labelled = await fx.registry.update("configmaps", {
      ...cm,
      metadata: { ...cm.metadata, labels: { x: "y" } },
    });
    expect(labelled.metadata.labels).toEqual({ x: "y" });
  });

  test("HPA bounds and PDB exclusivity are validated", async () => {
    const hpa = await reason(
      fx.registry.create("horizontalpodautoscalers.autoscaling", {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "h" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
          minReplicas: 5,
          maxReplicas: 2,
        },
      }),
    );
    expect(hpa).toContain(
      "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
    );
    const pdb = await reason(
      fx.registry.create("poddisruptionbudgets.policy", {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "p" },
        spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: "x" } } },
      }),
    );
    expect(pdb).toContain("minAvailable and maxUnavailable cannot be both set");
  });

  test("autoscaling/v1 HPA is converted to v2 metrics", async () => {
    const hpa = await fx.registry.create<KubeObject>("horizontalpodautoscalers.autoscaling", {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        maxReplicas: 3,
        targetCPUUtilizationPercentage: 50,
      },
    });
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect((hpa.spec as { metrics: unknown }).metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
      },
    ]);
  });
});
