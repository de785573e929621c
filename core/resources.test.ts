import { describe, expect, test } from "bun:test";
import { findByAlias, findByKind, resourceKey } from "./resources.ts";

describe("resources", () => {
  test("legacy extensions/v1beta1 Deployment resolves to apps/v1", () => {
    const info = findByKind("extensions/v1beta1", "Deployment");
    expect(info?.group).toBe("apps");
    expect(info && resourceKey(info)).toBe("deployments.apps");
  });
  test("aliases resolve like kubectl's", () => {
    expect(findByAlias("deploy")?.kind).toBe("Deployment");
    expect(findByAlias("po")?.kind).toBe("Pod");
    expect(findByAlias("services")?.kind).toBe("Service");
    expect(findByAlias("nope")).toBeUndefined();
  });
});
