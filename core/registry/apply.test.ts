import { describe, expect, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { KubeObject } from "../object.ts";
import { deploymentManifest, errorOf, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const spec = (o: KubeObject) => o.spec as NonNullable<Deployment["spec"]>;

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

  test("fields declared through client-side apply change hands without a conflict", async () => {
    const csa = { ...applied(2), metadata: { name: "ssa", annotations: {} as Record<string, string> } };
    csa.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] = JSON.stringify(applied(2));
    await fx.registry.create("deployments.apps", csa, { fieldManager: "kubectl-client-side-apply" });
    await mergeAs("kubectl-client-side-apply", { metadata: { labels: { extra: "x" } } });
    const out = await apply(applied(3, "nginx:1.26"));
    expect(spec(out).replicas).toBe(3);
    expect(spec(out).template.spec?.containers[0]?.image).toBe("nginx:1.26");
    const clash = await errorOf(
      apply({ ...applied(3, "nginx:1.26"), metadata: { name: "ssa", labels: { extra: "y" } } }),
    );
    expect(clash.details?.causes?.[0]?.field).toBe(".metadata.labels.extra");
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
