import { describe, expect, test } from "bun:test";
import { proportionalScale } from "./proportional-scale.ts";

const sets = (old: number, fresh: number) => [
  { uid: "old", replicas: old, isNew: false },
  { uid: "new", replicas: fresh, isNew: true },
];

describe("proportional scaling", () => {
  test("growth is shared by size, the rounding leftover to the new ReplicaSet", () => {
    expect(Object.fromEntries(proportionalScale(sets(3, 2), 10))).toEqual({ old: 6, new: 4 });
    expect(Object.fromEntries(proportionalScale(sets(3, 1), 9))).toEqual({ old: 6, new: 3 });
  });

  test("shrinking takes from the old ReplicaSet first, never below zero", () => {
    expect(Object.fromEntries(proportionalScale(sets(6, 4), 5))).toEqual({ old: 3, new: 2 });
    expect(Object.fromEntries(proportionalScale(sets(1, 4), 0))).toEqual({ old: 0, new: 0 });
  });

  test("nothing to do", () => {
    expect(Object.fromEntries(proportionalScale(sets(3, 2), 5))).toEqual({ old: 3, new: 2 });
  });
});
