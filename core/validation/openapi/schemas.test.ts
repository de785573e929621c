import { describe, expect, test } from "bun:test";
import { RESOURCES } from "../../resources.ts";
import { OPENAPI_SCHEMAS, resolveSchema, schemaNameFor, schemasReachableFrom } from "./schemas.ts";

describe("OpenAPI schemas", () => {
  test("every served kind has a root schema with its group-version-kind", () => {
    for (const r of RESOURCES) {
      const name = schemaNameFor(r.group, r.version, r.kind);
      expect(name, `${r.kind}`).toBeDefined();
      expect(OPENAPI_SCHEMAS[name!]?.properties?.metadata).toBeDefined();
    }
    expect(schemaNameFor("apps", "v1", "Deployment")).toBe("io.k8s.api.apps.v1.Deployment");
    expect(schemaNameFor("autoscaling", "v1", "Scale")).toBe("io.k8s.api.autoscaling.v1.Scale");
  });

  test("fields carry descriptions, types and patch strategies", () => {
    const podSpec = OPENAPI_SCHEMAS["io.k8s.api.core.v1.PodSpec"]!;
    expect(podSpec.required).toContain("containers");
    const containers = podSpec.properties!.containers!;
    expect(containers["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(resolveSchema(containers.items!).properties?.image?.type).toBe("string");
    expect(
      OPENAPI_SCHEMAS["io.k8s.api.core.v1.ContainerPort"]?.properties?.containerPort?.description,
    ).toContain("Number of port");
  });

  test("a group-version document can be cut out by reachability", () => {
    const docs = schemasReachableFrom(["io.k8s.api.apps.v1.Deployment"]);
    expect(Object.keys(docs)).toContain("io.k8s.api.core.v1.Container");
    expect(Object.keys(docs)).toContain("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    expect(Object.keys(docs)).not.toContain("io.k8s.api.core.v1.Service");
  });
});
