import { describe, expect, test } from "bun:test";
import type { ApiError } from "../errors.ts";
import { negotiate } from "./negotiation.ts";

describe("Accept negotiation", () => {
  test("the most preferred servable clause wins; protobuf keeps the next one as its fallback", () => {
    expect(negotiate(null)).toEqual({ format: "json" });
    expect(negotiate("application/vnd.kubernetes.protobuf, */*")).toEqual({
      format: "protobuf",
      fallback: { format: "json" },
    });
    expect(negotiate("application/vnd.kubernetes.protobuf")).toEqual({ format: "protobuf" });
    // q-values order the clauses; at equal q the more specific type goes first
    expect(negotiate("application/vnd.kubernetes.protobuf;q=0.5, application/json")).toEqual({
      format: "json",
    });
    expect(negotiate("*/*, application/vnd.kubernetes.protobuf")).toEqual({
      format: "protobuf",
      fallback: { format: "json" },
    });
    expect(negotiate("application/json;q=0.9, application/yaml")).toEqual({ format: "yaml" });
    // no protobuf Table: the clause is passed over
    expect(
      negotiate("application/vnd.kubernetes.protobuf;as=Table;g=meta.k8s.io;v=v1, application/json"),
    ).toEqual({ format: "json" });
    expect(
      negotiate(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
      ),
    ).toEqual({ format: "json", as: { kind: "Table", version: "v1" } });
    expect(negotiate("application/yaml;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1")).toEqual({
      format: "yaml",
      as: { kind: "PartialObjectMetadata", version: "v1beta1" },
    });
  });

  test("an unknown transform, a q=0 clause or YAML for a watch is not servable", () => {
    expect(negotiate("application/json;as=Other;g=meta.k8s.io;v=v1, application/json")).toEqual({
      format: "json",
    });
    expect(negotiate("application/json;as=Table;g=other;v=v1, application/yaml")).toEqual({ format: "yaml" });
    const refused = (accept: string, watch = false) => {
      try {
        negotiate(accept, watch);
      } catch (e) {
        return e as ApiError;
      }
      throw new Error(`expected ${accept} to be refused`);
    };
    expect(refused("application/json;q=0").code).toBe(406);
    expect(refused("application/yaml", true).message).toBe(
      "only the following media types are accepted: application/json, application/json;stream=watch, application/vnd.kubernetes.protobuf, application/vnd.kubernetes.protobuf;stream=watch",
    );
    expect(refused("application/vnd.kubernetes.protobuf;q=0").reason).toBe("NotAcceptable");
  });
});
