import { describe, expect, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { KubeObject } from "../object.ts";
import { deploymentManifest, errorOf, useRegistry } from "./test-fixture.ts";

const fx = useRegistry();
const spec = (o: KubeObject) => o.spec as NonNullable<Deployment["spec"]>;

describe("patch", () => {
  test("strategic merge: set image bumps generation and keeps the rest", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const out = await fx.registry.patch("deployments.apps", "default", "web", "strategic", {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }],
            containers: [{ image: "nginx:1.26", name: "web" }],
          },
        },
      },
    });
    expect(spec(out).template.spec?.containers[0]?.image).toBe("nginx:1.26");
    expect(spec(out).template.spec?.containers[0]?.ports?.[0]?.protocol).toBe("TCP");
    expect(out.metadata.generation).toBe(2);
  });

  test("merge patch on labels does not bump generation", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const out = await fx.registry.patch("deployments.apps", "default", "web", "merge", {
      metadata: { labels: { tier: "web" } },
    });
    expect(out.metadata.labels).toEqual({ tier: "web" });
    expect(out.metadata.generation).toBe(1);
  });

  test("json patch (rollout undo style)", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const out = await fx.registry.patch("deployments.apps", "default", "web", "json", [
      { op: "replace", path: "/spec/replicas", value: 2 },
    ]);
    expect(spec(out).replicas).toBe(2);
  });

  test("a resourceVersion in the body is a precondition; without one concurrent patches all land", async () => {
    const d = await fx.registry.create("deployments.apps", deploymentManifest("web"));
    await fx.registry.patch("deployments.apps", "default", "web", "merge", {
      metadata: { labels: { a: "1" } },
    });
    const err = await errorOf(
      fx.registry.patch("deployments.apps", "default", "web", "merge", {
        metadata: { resourceVersion: d.metadata.resourceVersion, labels: { b: "1" } },
      }),
    );
    expect(err.code).toBe(409);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fx.registry.patch("deployments.apps", "default", "web", "merge", {
          metadata: { annotations: { [`k${i}`]: "v" } },
        }),
      ),
    );
    const got = await fx.registry.get("deployments.apps", "default", "web");
    expect(Object.keys(got.metadata.annotations ?? {}).sort()).toEqual([
      "k0",
      "k1",
      "k2",
      "k3",
      "k4",
      "k5",
      "k6",
      "k7",
      "k8",
      "k9",
    ]);
  });

  test("patched objects are validated", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const err = await errorOf(
      fx.registry.patch("deployments.apps", "default", "web", "merge", { spec: { replicas: -3 } }),
    );
    expect(err.code).toBe(422);
    expect(err.details?.causes?.[0]?.field).toBe("spec.replicas");
  });

  test("status subresource patch changes only status; main patch ignores status", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const s = await fx.registry.patch(
      "deployments.apps",
      "default",
      "web",
      "merge",
      { status: { replicas: 4 }, spec: { replicas: 9 } },
      { subresource: "status" },
    );
    expect(s.status).toEqual({ replicas: 4 });
    expect(spec(s).replicas).toBe(1);
    const m = await fx.registry.patch("deployments.apps", "default", "web", "merge", {
      status: { replicas: 0 },
    });
    expect(m.status).toEqual({ replicas: 4 });
  });

  test("dryRun patch stores nothing", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const out = await fx.registry.patch(
      "deployments.apps",
      "default",
      "web",
      "merge",
      { spec: { replicas: 5 } },
      { dryRun: true },
    );
    expect(spec(out).replicas).toBe(5);
    expect(spec(await fx.registry.get("deployments.apps", "default", "web")).replicas).toBe(1);
  });

  test("patching a missing object is NotFound", async () => {
    const err = await errorOf(fx.registry.patch("deployments.apps", "default", "nope", "merge", {}));
    expect(err.message).toBe('deployments.apps "nope" not found');
  });
});

describe("scale subresource", () => {
  test("get, update and merge-patch a Scale", async () => {
    await fx.registry.create("deployments.apps", deploymentManifest("web"));
    const scale = await fx.registry.getScale("deployments.apps", "default", "web");
    expect(scale).toMatchObject({
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      spec: { replicas: 1 },
      status: { replicas: 0, selector: "app=web" },
    });
    const put = await fx.registry.updateScale("deployments.apps", "default", "web", {
      ...scale,
      spec: { replicas: 3 },
    });
    expect(put.spec).toEqual({ replicas: 3 });
    const patched = await fx.registry.patch(
      "deployments.apps",
      "default",
      "web",
      "merge",
      { spec: { replicas: 5 } },
      { subresource: "scale" },
    );
    expect(patched.kind).toBe("Scale");
    const d = await fx.registry.get("deployments.apps", "default", "web");
    expect(spec(d).replicas).toBe(5);
    expect(d.metadata.generation).toBe(3);
    const stale = await errorOf(
      fx.registry.updateScale("deployments.apps", "default", "web", { ...scale, spec: { replicas: 1 } }),
    );
    expect(stale.code).toBe(409);
    const bad = await errorOf(
      fx.registry.updateScale("deployments.apps", "default", "web", {
        ...scale,
        metadata: { name: "web" },
        spec: { replicas: -1 },
      }),
    );
    expect(bad.message).toBe(
      'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    expect((await errorOf(fx.registry.getScale("pods", "default", "x"))).code).toBe(404);
  });
});

describe("server-side apply", () => {
  const applied = (replicas: number, image = "nginx:1.25") => ({
    ...deploymentManifest("ssa"),
    spec: {
      ...(deploymentManifest("ssa").spec as object),
      replicas,
      template: { metadata: { labels: { app: "ssa" } }, spec: { containers: [{ name: "web", image }] } },
    },
  });
  const apply = (body: unknown, manager = "kubectl", force = false) =>
    fx.registry.patch("deployments.apps", "default", "ssa", "apply", body, { fieldManager: manager, force });
  const mergeAs = (manager: string, body: unknown) =>
    fx.registry.patch("deployments.apps", "default", "ssa", "merge", body, { fieldManager: manager });

  test("creates when missing, then merges and records managedFields", async () => {
    const created = await apply(applied(2));
    expect(spec(created).replicas).toBe(2);
    const entry = created.metadata.managedFields?.[0];
    expect(entry).toMatchObject({
      manager: "kubectl",
      operation: "Apply",
      apiVersion: "apps/v1",
      fieldsType: "FieldsV1",
    });
    const fields = entry?.fieldsV1 as Record<string, Record<string, unknown>>;
    expect(fields["f:spec"]?.["f:replicas"]).toEqual({});
    const same = await apply(applied(2));
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const again = await apply(applied(2, "nginx:1.26"));
    expect(spec(again).template.spec?.containers[0]?.image).toBe("nginx:1.26");
    expect(again.metadata.generation).toBe(2);
  });

  test("a field another manager changed conflicts unless forced", async () => {
    await apply(applied(2));
    await mergeAs("other-manager", { spec: { replicas: 5 } });
    const err = await errorOf(apply(applied(3)));
    expect(err.code).toBe(409);
    expect(err.reason).toBe("Conflict");
    expect(err.details?.causes).toEqual([
      { reason: "FieldManagerConflict", message: 'conflict with "other-manager"', field: ".spec.replicas" },
    ]);
    const forced = await apply(applied(3), "kubectl", true);
    expect(spec(forced).replicas).toBe(3);
    expect(forced.metadata.managedFields?.map((m) => m.manager)).toEqual(["kubectl"]);
  });

  test("a scale by another manager is owned via the scale subresource", async () => {
    await apply(applied(2));
    await fx.registry.patch(
      "deployments.apps",
      "default",
      "ssa",
      "merge",
      { spec: { replicas: 4 } },
      { fieldManager: "kubectl", subresource: "scale" },
    );
    const err = await errorOf(apply(applied(2)));
    expect(err.details?.causes?.[0]?.message).toBe('conflict with "kubectl" with subresource "scale"');
  });

  test("applying the same value another manager set is not a conflict", async () => {
    await apply(applied(2));
    await mergeAs("other", { spec: { replicas: 5 } });
    expect(spec(await apply(applied(5))).replicas).toBe(5);
  });

  test("a field dropped from the applied config is removed", async () => {
    await apply({ ...applied(2), metadata: { name: "ssa", labels: { team: "a" } } });
    const out = await apply(applied(2));
    expect(out.metadata.labels).toBeUndefined();
  });

  test("fieldManager is required", async () => {
    const err = await errorOf(fx.registry.patch("deployments.apps", "default", "ssa", "apply", applied(1)));
    expect(err.code).toBe(400);
  });
});

describe("eviction", () => {
  const pod = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "db" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  const pdb = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "db" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
  };

  test("evicts when no budget covers the pod", async () => {
    await fx.registry.create("pods", pod("a"));
    await fx.registry.evict("default", "a");
    expect(await fx.registry.tryGet("pods", "default", "a")).toBeUndefined();
  });

  test("429 when the budget allows no disruption; spends one when it does", async () => {
    await fx.registry.create("pods", pod("a"));
    await fx.registry.create("pods", pod("b"));
    const budget = await fx.registry.create("poddisruptionbudgets.policy", pdb);
    await fx.registry.updateStatus("poddisruptionbudgets.policy", {
      ...budget,
      status: { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1 },
    });
    await fx.registry.evict("default", "b", { dryRun: true });
    await fx.registry.evict("default", "a");
    expect(await fx.registry.tryGet("pods", "default", "a")).toBeUndefined();
    const err = await errorOf(fx.registry.evict("default", "b"));
    expect(err.code).toBe(429);
    expect(err.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(await fx.registry.tryGet("pods", "default", "b")).toBeDefined();
  });
});

describe("fieldValidation", () => {
  const withUnknown = () => {
    const d = deploymentManifest("web");
    (d.spec as Record<string, unknown>).foo = 1;
    (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec
      .containers[0]!.imagePullPolcy = "x";
    return d;
  };

  test("Strict rejects unknown fields naming them all", async () => {
    const err = await errorOf(
      fx.registry.create("deployments.apps", withUnknown(), { fieldValidation: "Strict" }),
    );
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolcy", unknown field "spec.foo"',
    );
  });

  test("Warn warns and drops them; Ignore drops them silently", async () => {
    const warned = await fx.registry.create("deployments.apps", withUnknown(), { fieldValidation: "Warn" });
    expect(fx.warnings).toEqual([
      'unknown field "spec.template.spec.containers[0].imagePullPolcy"',
      'unknown field "spec.foo"',
    ]);
    expect((warned.spec as Record<string, unknown>).foo).toBeUndefined();
    const patched = await fx.registry.patch(
      "deployments.apps",
      "default",
      "web",
      "merge",
      { spec: { bar: 1 } },
      { fieldValidation: "Ignore" },
    );
    expect((patched.spec as Record<string, unknown>).bar).toBeUndefined();
    expect(fx.warnings.length).toBe(2);
  });

  test("values of the wrong type are a BadRequest in every mode", async () => {
    const d = deploymentManifest("typed");
    (d.spec as Record<string, unknown>).replicas = "3";
    const err = await errorOf(fx.registry.create("deployments.apps", d, { fieldValidation: "Ignore" }));
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field spec.replicas of type int32',
    );
    const ok = deploymentManifest("typed");
    const c = (ok.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template
      .spec.containers[0]!;
    c.resources = { limits: { cpu: 1, memory: "64Mi" } };
    c.ports = [{ containerPort: 80, name: "http" }];
    await fx.registry.create("deployments.apps", ok, { fieldValidation: "Strict" });
  });

  test("server-side apply honours Strict", async () => {
    const err = await errorOf(
      fx.registry.patch("deployments.apps", "default", "web", "apply", withUnknown(), {
        fieldManager: "kubectl",
        fieldValidation: "Strict",
      }),
    );
    expect(err.code).toBe(400);
  });
});
