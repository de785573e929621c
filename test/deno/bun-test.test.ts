import { describe, expect, test } from "bun:test";
import { equals, expect as shimExpect } from "./bun-test.ts";

/** The Deno shim's matchers agree with bun:test's on what the unit tests rely on (run under Bun). */
describe("bun:test shim for Deno", () => {
  test("toEqual ignores undefined properties, compares dates, bytes, maps and sets by value", () => {
    expect(equals({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(equals({ a: 1, b: undefined }, { a: 1 }, true)).toBe(false);
    expect(equals([1, { x: [2] }], [1, { x: [2] }])).toBe(true);
    expect(equals([1, 2], [1, 2, 3])).toBe(false);
    expect(equals(new Date(5), new Date(5))).toBe(true);
    expect(equals(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equals(new Map([["k", { v: 1 }]]), new Map([["k", { v: 1 }]]))).toBe(true);
    expect(equals(new Set([1, 2]), new Set([2, 1]))).toBe(true);
    expect(equals({ a: 1 }, [1])).toBe(false);
  });

  test("matchers pass and fail as bun:test's do, .not included", () => {
    shimExpect({ a: { b: 1, c: 2 }, d: [1] }).toMatchObject({ a: { b: 1 }, d: [1] });
    expect(() => shimExpect({ a: 1 }).toMatchObject({ a: 2 })).toThrow();
    shimExpect("minik").toStartWith("mi");
    shimExpect([1, 2]).toContain(2);
    shimExpect([{ a: 1 }]).toContainEqual({ a: 1 });
    shimExpect(0.1 + 0.2).toBeCloseTo(0.3);
    shimExpect(1).not.toBe(2);
    expect(() => shimExpect(1).not.toBe(1)).toThrow("not:");
    shimExpect(() => {
      throw new TypeError("bad thing");
    }).toThrow("bad");
    expect(() => shimExpect(() => {}).toThrow()).toThrow("to throw");
  });

  test("async and asymmetric matchers", async () => {
    await shimExpect(Promise.reject(new Error("nope"))).rejects.toThrow("nope");
    await shimExpect(Promise.resolve(3)).resolves.toBe(3);
    await expect(shimExpect(Promise.resolve(3)).rejects.toThrow()).rejects.toThrow("expected a rejection");
    shimExpect({ kind: "Pod", metadata: { name: "p" } }).toEqual(
      shimExpect.objectContaining({ metadata: shimExpect.objectContaining({ name: "p" }) }),
    );
    shimExpect(["a", "b", "c"]).toEqual(shimExpect.arrayContaining(["c", "a"]));
    shimExpect({ m: "pod p failed" }).toEqual({ m: shimExpect.stringMatching(/^pod \w+ failed$/) });
  });
});
