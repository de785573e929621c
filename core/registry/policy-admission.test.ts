import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();

function pod(name: string, resources?: object, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "c", image: "busybox", ...(resources ? { resources } : {}) }], ...extra },
  };
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected a refusal, the write went through");
}

const configMap = (name: string) =>
  fx.registry.create("configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "default" },
  });

const limitRange = (limits: object[]) =>
  fx.registry.create("limitranges", {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "lr", namespace: "default" },
    spec: { limits },
  });

describe("LimitRange", () => {
  test("stored with upstream's defaults; containers get default limits and requests, annotated", async () => {
    const lr = await limitRange([
      { type: "Container", max: { cpu: "1" }, default: { memory: "256Mi" }, min: { memory: "64Mi" } },
    ]);
    expect(lr.spec).toEqual({
      limits: [
        {
          type: "Container",
          max: { cpu: "1" },
          min: { memory: "64Mi" },
          default: { cpu: "1", memory: "256Mi" },
          defaultRequest: { cpu: "1", memory: "256Mi" },
        },
      ],
    });
    const p = await fx.registry.create("pods", pod("p", { requests: { cpu: "100m" } }));
    const c = (p.spec as { containers: { resources: object }[] }).containers[0]!;
    expect(c.resources).toEqual({
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "1", memory: "256Mi" },
    });
    expect(p.metadata.annotations?.["kubernetes.io/limit-ranger"]).toBe(
      "LimitRanger plugin set: memory request for container c; cpu, memory limit for container c",
    );
  });

  test("min, max and maxLimitRequestRatio are enforced per container and per pod", async () => {
    await limitRange([
      { type: "Container", max: { cpu: "1" }, min: { cpu: "100m" }, maxLimitRequestRatio: { cpu: "2" } },
      { type: "Pod", max: { memory: "1Gi" } },
    ]);
    const tooBig = await refusal(
      fx.registry.create("pods", pod("big", { limits: { cpu: "2" }, requests: { cpu: "1500m" } })),
    );
    expect(tooBig.code).toBe(403);
    expect(tooBig.message).toBe(
      'pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum memory usage per Pod is 1Gi.  No limit is specified]',
    );
    const ratio = await refusal(
      fx.registry.create(
        "pods",
        pod("r", { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "200m" } }),
      ),
    );
    expect(ratio.message).toBe(
      'pods "r" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000',
    );
    const small = await refusal(
      fx.registry.create("pods", pod("s", { limits: { cpu: "50m", memory: "2Gi" } })),
    );
    expect(small.message).toContain("minimum cpu usage per Container is 100m, but request is 50m");
    expect(small.message).toContain("maximum memory usage per Pod is 1Gi, but limit is 2Gi");
    expect(await fx.store.get("pods", "default", "s")).toBeUndefined();
  });

  test("validation as upstream words it", async () => {
    const e = await refusal(
      limitRange([
        { type: "Container", min: { cpu: "2" }, max: { cpu: "1" } },
        { type: "Pod", default: { cpu: "1" } },
        { type: "Node" },
      ]),
    );
    expect(e.code).toBe(422);
    expect(e.message).toContain(
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    );
    expect(e.message).toContain(
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
    );
    expect(e.message).toContain('spec.limits[2].type: Unsupported value: "Node"');
  });
});

describe("ResourceQuota", () => {
  const quota = (hard: Record<string, string>) =>
    fx.registry.create("resourcequotas", {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "q", namespace: "default" },
      spec: { hard },
    });

  test("a create past the hard limit is 403 exceeded quota, with upstream's words", async () => {
    await quota({ pods: "1", configmaps: "1", "requests.cpu": "1", "limits.memory": "1Gi" });
    const res = { requests: { cpu: "600m" }, limits: { memory: "512Mi" } };
    await fx.registry.create("pods", pod("a", res));
    const e = await refusal(fx.registry.create("pods", pod("b", res)));
    expect(e.code).toBe(403);
    expect(e.reason).toBe("Forbidden");
    expect(e.message).toBe(
      'pods "b" is forbidden: exceeded quota: q, requested: pods=1,requests.cpu=600m, used: pods=1,requests.cpu=600m, limited: pods=1,requests.cpu=1',
    );
    const missing = await refusal(fx.registry.create("pods", pod("c")));
    expect(missing.message).toBe(
      'pods "c" is forbidden: failed quota: q: must specify limits.memory,requests.cpu',
    );
    await configMap("one");
    const cm = await refusal(configMap("two"));
    expect(cm.message).toBe(
      'configmaps "two" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1',
    );
    // A finished pod frees its share.
    const a = await fx.registry.get("pods", "default", "a");
    await fx.registry.updateStatus("pods", { ...a, status: { phase: "Succeeded" } });
    await fx.registry.create("pods", pod("b", res));
  });

  test("Services of type NodePort count against services.nodeports", async () => {
    await quota({ "services.nodeports": "1" });
    const svc = (name: string, type: string) =>
      fx.registry.create("services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "default" },
        spec: { type, selector: { app: name }, ports: [{ port: 80 }] },
      });
    await svc("a", "ClusterIP");
    await svc("b", "NodePort");
    const e = await refusal(svc("c", "NodePort"));
    expect(e.message).toBe(
      'services "c" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1',
    );
  });

  test("a scoped quota counts only the pods in its scope", async () => {
    await fx.registry.create("resourcequotas", {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "besteffort", namespace: "default" },
      spec: { hard: { pods: "1" }, scopes: ["BestEffort"] },
    });
    await fx.registry.create("pods", pod("be1"));
    await fx.registry.create("pods", pod("sized", { requests: { cpu: "100m" } }));
    const e = await refusal(fx.registry.create("pods", pod("be2")));
    expect(e.message).toContain(
      "exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1",
    );
    await configMap("x");
  });

  test("hard names must be quota resources", async () => {
    const e = await refusal(quota({ bananas: "3", pods: "-1" }));
    expect(e.message).toContain(
      'spec.hard[bananas]: Invalid value: "bananas": must be a standard resource for quota',
    );
    expect(e.message).toContain('spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0');
    await quota({ "count/deployments.apps": "2" });
  });
});

describe("PriorityClass", () => {
  const pc = (name: string, value: number, extra: object = {}) =>
    fx.registry.create("priorityclasses.scheduling.k8s.io", {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name },
      value,
      ...extra,
    } as KubeObject);

  test("the system classes are bootstrapped and cannot be deleted", async () => {
    const { items } = await fx.registry.list("priorityclasses.scheduling.k8s.io");
    expect(items.map((i) => [i.metadata.name, (i as unknown as { value: number }).value])).toEqual([
      ["system-cluster-critical", 2000000000],
      ["system-node-critical", 2000001000],
    ]);
    const e = await refusal(
      fx.registry.delete("priorityclasses.scheduling.k8s.io", "", "system-node-critical"),
    );
    expect(e.message).toContain("this is a system priority class and cannot be deleted");
  });

  test("a pod's class becomes its priority; an unknown class is refused; the global default applies", async () => {
    await pc("high", 1000, { preemptionPolicy: "Never" });
    const p = await fx.registry.create("pods", pod("p", undefined, { priorityClassName: "high" }));
    expect(p.spec).toMatchObject({ priority: 1000, preemptionPolicy: "Never" });
    const plain = await fx.registry.create("pods", pod("plain"));
    expect(plain.spec).toMatchObject({ priority: 0, preemptionPolicy: "PreemptLowerPriority" });
    const unknown = await refusal(
      fx.registry.create("pods", pod("u", undefined, { priorityClassName: "nope" })),
    );
    expect(unknown.message).toBe('pods "u" is forbidden: no PriorityClass with name nope was found');
    const wrong = await refusal(
      fx.registry.create("pods", pod("w", undefined, { priorityClassName: "high", priority: 5 })),
    );
    expect(wrong.message).toContain("the integer value of priority (5) must not be provided in pod spec");
    await pc("default", 10, { globalDefault: true });
    const d = await fx.registry.create("pods", pod("d"));
    expect(d.spec).toMatchObject({ priorityClassName: "default", priority: 10 });
    const two = await refusal(pc("other", 20, { globalDefault: true }));
    expect(two.message).toContain(
      "PriorityClass default is already marked as default. Only one default can exist",
    );
  });

  test("validation: reserved names, the user maximum, value immutable", async () => {
    expect((await refusal(pc("system-mine", 5))).message).toContain(
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only",
    );
    expect((await refusal(pc("huge", 1000000001))).message).toContain(
      "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
    );
    const low = await pc("low", 1);
    const e = await refusal(
      fx.registry.update("priorityclasses.scheduling.k8s.io", { ...low, value: 2 } as KubeObject),
    );
    expect(e.message).toContain("value: Forbidden: may not be changed in an update.");
  });
});

describe("RuntimeClass and PodTemplate", () => {
  test("stored with their validation", async () => {
    const rc = (handler?: string) =>
      fx.registry.create("runtimeclasses.node.k8s.io", {
        apiVersion: "node.k8s.io/v1",
        kind: "RuntimeClass",
        metadata: { name: "gvisor" },
        ...(handler ? { handler } : {}),
      } as KubeObject);
    expect((await refusal(rc())).message).toContain("handler: Required value");
    expect((await refusal(rc("Bad_Handler"))).message).toContain('handler: Invalid value: "Bad_Handler"');
    await rc("runsc");
    const t = await fx.registry.create("podtemplates", {
      apiVersion: "v1",
      kind: "PodTemplate",
      metadata: { name: "t", namespace: "default" },
      template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    } as KubeObject);
    expect(
      (t as unknown as { template: { spec: { restartPolicy: string } } }).template.spec.restartPolicy,
    ).toBe("Always");
  });
});
