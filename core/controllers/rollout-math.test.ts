import { describe, expect, test } from "bun:test";
import { scaledValue } from "./int-or-percent.ts";
import { maxScaledDown, newReplicaSetReplicas, resolveFenceposts } from "./rollout-math.ts";

describe("rollout math", () => {
  test("percentages: surge rounds up, unavailable rounds down", () => {
    expect(resolveFenceposts("25%", "25%", 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts("25%", "25%", 2)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(undefined, undefined, 4)).toEqual({ surge: 1, unavailable: 1 });
  });

  test("both zero would stall, so unavailable becomes 1", () => {
    expect(resolveFenceposts(0, 0, 3)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts("0%", "10%", 3)).toEqual({ surge: 0, unavailable: 1 });
  });

  test("ints pass through, junk is refused", () => {
    expect(scaledValue(2, 10, true)).toBe(2);
    expect(scaledValue("3", 10, true)).toBe(3);
    expect(() => scaledValue("lots", 10, true)).toThrow(/integer or a percentage/);
  });

  test("new ReplicaSet grows within desired + surge", () => {
    expect(newReplicaSetReplicas(3, 1, 0, 3)).toBe(1);
    expect(newReplicaSetReplicas(3, 1, 1, 4)).toBe(1);
    expect(newReplicaSetReplicas(3, 1, 1, 3)).toBe(2);
    expect(newReplicaSetReplicas(3, 2, 0, 0)).toBe(3);
  });

  test("old pods go only while enough stay available", () => {
    // 3 desired, maxUnavailable 0, 4 pods of which the new one is not yet available: none may go.
    expect(maxScaledDown(4, 3, 0, 1, 0)).toBe(0);
    // the new one became available: one old may go.
    expect(maxScaledDown(4, 3, 0, 1, 1)).toBe(1);
  });
});
