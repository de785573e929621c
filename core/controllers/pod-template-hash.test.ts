import { describe, expect, test } from "bun:test";
import { computeHash, equalIgnoreHash, fnv32a, safeEncode } from "./pod-template-hash.ts";

const template = {
  metadata: { labels: { app: "nginx" } },
  spec: { containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] },
};

describe("pod-template-hash", () => {
  test("FNV-32a matches the published test vectors", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(fnv32a(enc(""))).toBe(0x811c9dc5);
    expect(fnv32a(enc("a"))).toBe(0xe40c292c);
    expect(fnv32a(enc("foobar"))).toBe(0xbf9cf968);
  });

  test("safe encoding uses only the safe alphabet", () => {
    // "0" is byte 48, 48 % 27 = 21 → "4"; "6" is 54 % 27 = 0 → "b".
    expect(safeEncode("0123456789")).toBe("456789bcdf");
    expect(computeHash(template)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  test("equal templates hash equally whatever the key order", () => {
    const reordered = { spec: template.spec, metadata: template.metadata };
    expect(computeHash(reordered)).toBe(computeHash(template));
  });

  test("a different image or collision count changes the hash", () => {
    const other = structuredClone(template);
    other.spec.containers[0]!.image = "nginx:1.26";
    expect(computeHash(other)).not.toBe(computeHash(template));
    expect(computeHash(template, 1)).not.toBe(computeHash(template));
  });

  test("rollout undo's Go artifacts and the hash label are not differences", () => {
    const fromUndo = {
      metadata: { creationTimestamp: null, labels: { app: "nginx", "pod-template-hash": "abc" } },
      spec: { containers: [{ ...template.spec.containers[0], resources: {} }] },
    };
    expect(equalIgnoreHash(fromUndo as never, template)).toBe(true);
    expect(computeHash(fromUndo as never)).toBe(computeHash(template));
  });
});
