import { expect, test } from "bun:test";
import { createWarningPrinter, parseWarnings } from "./warnings.ts";

test("parses one or several Warning values, with escaped quotes", () => {
  expect(parseWarnings('299 - "a \\"b\\" c"')).toEqual(['a "b" c']);
  expect(parseWarnings('299 - "one, two", 299 - "three"')).toEqual(["one, two", "three"]);
  expect(parseWarnings(null)).toEqual([]);
});

test("prints each warning once, as kubectl does", () => {
  const lines: string[] = [];
  const print = createWarningPrinter((l) => lines.push(l));
  print('299 - "x is deprecated"');
  print('299 - "x is deprecated", 299 - "y"');
  expect(lines).toEqual(["Warning: x is deprecated\n", "Warning: y\n"]);
});
