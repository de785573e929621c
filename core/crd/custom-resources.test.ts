import { describe, expect, test } from "bun:test";
import { errorOf, useRegistry } from "../registry/testing/test-fixture.ts";
import { cronTab, cronTabCrd } from "./testing/crontab.ts";
import { CRD_CLEANUP_FINALIZER, CRD_RESOURCE } from "./types.ts";

const fx = useRegistry();
const CT = "crontabs.stable.example.com";

describe("CustomResourceDefinitions", () => {
  test("a CRD is stored with defaults and the cleanup finalizer", async () => {
    const crd = await fx.registry.create(CRD_RESOURCE, cronTabCrd());
    expect(crd.metadata.finalizers).toEqual([CRD_CLEANUP_FINALIZER]);
    expect((crd.spec as { names: { listKind: string } }).names.listKind).toBe("CronTabList");
    expect((crd.spec as { conversion: unknown }).conversion).toEqual({ strategy: "None" });
  });

  test("name not <plural>.<group>, no storage version, non-structural schema: 422 naming the fields", async () => {
    const bad = cronTabCrd();
    bad.metadata.name = "crontabs.example.com";
    bad.spec.versions[1]!.storage = true;
    (
      bad.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.image as { type?: string }
    ).type = undefined;
    const e = await errorOf(fx.registry.create(CRD_RESOURCE, bad));
    expect(e.code).toBe(422);
    const fields = e.details?.causes?.map((c) => `${c.field}: ${c.message}`);
    expect(fields).toContain(
      'metadata.name: Invalid value: "crontabs.example.com": must be spec.names.plural+"."+spec.group',
    );
    expect(fields?.some((f) => f.startsWith("spec.versions: Invalid value"))).toBe(true);
    expect(fields).toContain(
      "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[image].type: Required value: must not be empty for specified object fields",
    );
    expect(await fx.registry.tryGet(CRD_RESOURCE, "", "crontabs.example.com")).toBeUndefined();
  });

  test("a default that does not validate is refused", async () => {
    const bad = cronTabCrd();
    (
      bad.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.replicas as {
        default: unknown;
      }
    ).default = "three";
    const e = await errorOf(fx.registry.create(CRD_RESOURCE, bad));
    expect(e.details?.causes?.[0]?.field).toBe(
      "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default",
    );
  });
});

describe("custom resources", () => {
  test("created, defaulted, pruned, validated; status kept apart", async () => {
    await fx.registry.create(CRD_RESOURCE, cronTabCrd());
    const obj = cronTab("c1", { unknown: 1, extra: { anything: [1] } });
    obj.status = { replicas: 9 };
    const created = await fx.registry.create(CT, obj);
    expect(created.apiVersion).toBe("stable.example.com/v1");
    expect(created.spec).toEqual({
      cronSpec: "* * * * */5",
      image: "my-cron",
      replicas: 1,
      extra: { anything: [1] },
    });
    expect(created.status).toBeUndefined();
    expect(created.metadata.generation).toBe(1);

    const e = await errorOf(fx.registry.create(CT, cronTab("c2", { replicas: 20, cronSpec: 5 })));
    expect(e.code).toBe(422);
    expect(e.message).toContain('CronTab.stable.example.com "c2" is invalid');
    expect(e.details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.cronSpec: Invalid value: "integer": spec.cronSpec in body must be of type string: "integer"',
      "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10",
    ]);
    const missing = await errorOf(fx.registry.create(CT, { ...cronTab("c3"), spec: { image: "x" } }));
    expect(missing.details?.causes?.[0]).toMatchObject({
      field: "spec.cronSpec",
      reason: "FieldValueRequired",
    });
  });

  test("strict field validation names pruned fields; another served version is stored as the storage version", async () => {
    await fx.registry.create(CRD_RESOURCE, cronTabCrd());
    const e = await errorOf(fx.registry.create(CT, cronTab("c1", { foo: 1 }), { fieldValidation: "Strict" }));
    expect(e.code).toBe(400);
    expect(e.message).toContain('strict decoding error: unknown field "spec.foo"');
    const old = await fx.registry.create(CT, cronTab("c2", {}, "stable.example.com/v1beta1"));
    expect(old.apiVersion).toBe("stable.example.com/v1");
    const e2 = await errorOf(fx.registry.create(CT, cronTab("c3", {}, "stable.example.com/v2")));
    expect(e2.code).toBe(400);
  });

  test("status and scale subresources", async () => {
    await fx.registry.create(CRD_RESOURCE, cronTabCrd());
    const c = await fx.registry.create(CT, cronTab("c1"));
    await fx.registry.updateStatus(CT, { ...c, status: { replicas: 1, labelSelector: "app=c1" } });
    const scale = await fx.registry.getScale(CT, "default", "c1");
    expect(scale).toMatchObject({
      kind: "Scale",
      spec: { replicas: 1 },
      status: { replicas: 1, selector: "app=c1" },
    });
    await fx.registry.updateScale(CT, "default", "c1", { ...scale, spec: { replicas: 4 } });
    const after = await fx.registry.get(CT, "default", "c1");
    expect((after.spec as { replicas: number }).replicas).toBe(4);
    expect(after.metadata.generation).toBe(2);
    // a spec write does not touch status
    const updated = await fx.registry.update(CT, { ...after, status: { replicas: 99 } } as typeof after);
    expect(updated.status).toEqual({ replicas: 1, labelSelector: "app=c1" });
  });

  test("cluster-scoped custom resources have no namespace", async () => {
    await fx.registry.create(CRD_RESOURCE, cronTabCrd({ scope: "Cluster" }));
    const c = await fx.registry.create(CT, {
      ...cronTab("c1"),
      metadata: { name: "c1", namespace: "default" },
    });
    expect(c.metadata.namespace).toBeUndefined();
    expect((await fx.registry.list(CT)).items).toHaveLength(1);
  });

  test("an unknown resource is NotFound", async () => {
    expect((await errorOf(fx.registry.list("nopes.example.com"))).code).toBe(404);
  });
});

test("CEL rules are accepted with a warning that they are not enforced", async () => {
  const crd = cronTabCrd();
  crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!["x-kubernetes-validations"] = [
    { rule: "self.replicas <= 5" },
  ];
  await fx.registry.create(CRD_RESOURCE, crd);
  // the fixture's two versions share one schema object, so both carry the rule
  expect(fx.warnings).toEqual(
    [0, 1].map(
      (i) =>
        `spec.versions[${i}].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations: CEL validation rules are not supported by minik and will not be enforced`,
    ),
  );
});

test("status writes are pruned, defaulted and validated against the status schema", async () => {
  const crd = cronTabCrd();
  crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.status!.properties!.replicas!.minimum = 0;
  await fx.registry.create(CRD_RESOURCE, crd);
  const c = await fx.registry.create(CT, cronTab("c1"));
  const ok = await fx.registry.updateStatus(CT, { ...c, status: { replicas: 2, junk: true } } as typeof c);
  expect(ok.status).toEqual({ replicas: 2 });
  // (no resourceVersion: not a conflict with the write above)
  const latest = { ...c, metadata: { ...c.metadata, resourceVersion: undefined } };
  const e = await errorOf(fx.registry.updateStatus(CT, { ...latest, status: { replicas: -1 } }));
  expect(e.code).toBe(422);
  expect(e.details?.causes?.[0]?.field).toBe("status.replicas");
});

test("controller-gen's IntOrString/Quantity pattern is structural; other types in junctors are not", async () => {
  const crd = cronTabCrd();
  const spec = crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!;
  spec.properties!.memory = {
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern:
      "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$",
    "x-kubernetes-int-or-string": true,
  };
  crd.spec.versions[1]!.schema = {
    openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  };
  await fx.registry.create(CRD_RESOURCE, crd);
  expect((await fx.registry.create(CT, cronTab("m", { memory: "1Gi" }))).spec).toMatchObject({
    memory: "1Gi",
  });
  expect((await fx.registry.create(CT, cronTab("n", { memory: 3 }))).spec).toMatchObject({ memory: 3 });
  const e = await errorOf(fx.registry.create(CT, cronTab("o", { memory: true })));
  expect(e.code).toBe(422);

  const bad = cronTabCrd();
  bad.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.image = {
    type: "string",
    anyOf: [{ type: "string" }],
  };
  const e2 = await errorOf(fx.registry.create(CRD_RESOURCE, bad));
  expect(e2.details?.causes?.[0]).toMatchObject({
    field: "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[image].anyOf[0].type",
    reason: "FieldValueForbidden",
  });
});

test("patterns in Go RE2 syntax that JS unicode mode refuses still apply", async () => {
  const crd = cronTabCrd();
  crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.image = {
    type: "string",
    pattern: "^[a-z\\-]+\\-v\\d$",
  };
  await fx.registry.create(CRD_RESOURCE, crd);
  await fx.registry.create(CT, cronTab("a", { image: "my-image-v1" }));
  expect((await errorOf(fx.registry.create(CT, cronTab("b", { image: "x_y" })))).code).toBe(422);
});

test("RE2 inline flags in patterns apply", async () => {
  const crd = cronTabCrd();
  crd.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!.image = {
    type: "string",
    pattern: "^(?i)(abort|warn)?$",
  };
  await fx.registry.create(CRD_RESOURCE, crd);
  await fx.registry.create(CT, cronTab("a", { image: "WARN" }));
  expect((await errorOf(fx.registry.create(CT, cronTab("b", { image: "stop" })))).code).toBe(422);
});
