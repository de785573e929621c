import { describe, expect, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { KubeObject } from "../object.ts";
import { deploymentManifest, errorOf, useRegistry } from "./testing/test-fixture.ts";

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
