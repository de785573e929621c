import { describe, expect, test } from "bun:test";
import { ManifestError, parseManifests } from "./manifest.ts";

describe("parseManifests", () => {
  test("reads every document and the items of a List, skipping empty ones", () => {
    const text = [
      "# comment",
      "---",
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: a}",
      "---",
      "---",
      "apiVersion: v1",
      "kind: List",
      "items:",
      "- {apiVersion: v1, kind: Secret, metadata: {name: b}}",
      "- {apiVersion: v1, kind: Service}",
    ].join("\n");
    const got = parseManifests(text, "f.yaml");
    expect(got.map((m) => [m.object.kind, m.object.metadata.name, m.source])).toEqual([
      ["ConfigMap", "a", "f.yaml (document 1, line 2)"],
      ["Secret", "b", "f.yaml (document 2, line 7)"],
      ["Service", undefined, "f.yaml (document 2, line 7)"],
    ]);
  });

  test("YAML 1.2 core schema: yes, on and dates stay strings, as with `yaml`", () => {
    const [m] = parseManifests(
      "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: yes\n  b: 2001-01-01\n  c: on\n",
      "f",
    );
    expect(m!.object.data).toEqual({ a: "yes", b: "2001-01-01", c: "on" });
  });

  test("a syntax error or a duplicate key rejects the whole file with its line and column", () => {
    expect(() => parseManifests("apiVersion: v1\nkind: A\n---\nx: 1\nx: 2\n", "f.yaml")).toThrow(
      "error parsing f.yaml: line 5, column 1: duplicated mapping key",
    );
    expect(() => parseManifests("a: [1,\nb: 2", "f.yaml")).toThrow(ManifestError);
  });

  test("a document that is not a mapping, or lacks apiVersion/kind, is named by number and line", () => {
    expect(() => parseManifests("- 1\n", "f.yaml")).toThrow(
      "error parsing f.yaml (document 1, line 1): a manifest must be a mapping with apiVersion and kind",
    );
    expect(() => parseManifests("apiVersion: v1\nkind: A\n---\nfoo: 1\n", "f.yaml")).toThrow(
      "error validating f.yaml (document 2, line 3): apiVersion and kind are required",
    );
  });

  test("aliases are bounded (a YAML bomb is refused, not expanded)", () => {
    const bomb = ["a: &a [x, x]", ...Array.from({ length: 120 }, (_, i) => `k${i}: *a`)].join("\n");
    expect(() => parseManifests(`apiVersion: v1\nkind: A\n${bomb}\n`, "f.yaml")).toThrow(ManifestError);
    expect(parseManifests("apiVersion: v1\nkind: A\nx: &x {b: 1}\ny: *x\n", "f")[0]!.object.y).toEqual({
      b: 1,
    });
  });
});
