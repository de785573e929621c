import { expect, test } from "bun:test";
import { ListSnapshots } from "./list-snapshots.ts";

test("snapshots are found by resource, namespace and revision, bounded in count and age", () => {
  let now = 0;
  const s = new ListSnapshots(() => now);
  s.keep("pods", "a", { revision: 5, items: ["x"] });
  s.keep("pods", undefined, { revision: 5, items: ["x", "y"] });
  expect(s.find("pods", "a", 5)?.items).toEqual(["x"]);
  expect(s.find("pods", undefined, 5)?.items).toEqual(["x", "y"]);
  expect(s.find("pods", "b", 5)).toBeUndefined();
  expect(s.find("pods", "a", 6)).toBeUndefined();
  for (let r = 10; r < 30; r++) s.keep("configmaps", "a", { revision: r, items: [] });
  expect(s.find("pods", "a", 5)).toBeUndefined(); // the oldest went first
  expect(s.find("configmaps", "a", 29)).toBeDefined();
  now += 5 * 60_000 + 1;
  expect(s.find("configmaps", "a", 29)).toBeUndefined(); // older than a continue token lives
});
