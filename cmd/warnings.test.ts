import { describe, expect, test } from "bun:test";
import { warningHeader } from "../core/api/respond.ts";
import { createWarningPrinter, warningTexts } from "./warnings.ts";

describe("server warnings", () => {
  test("parses the texts of one or several 299 warnings, quotes and commas included", () => {
    expect(warningTexts(null)).toEqual([]);
    expect(warningTexts(warningHeader("a, with comma"))).toEqual(["a, with comma"]);
    const two = `${warningHeader('say "hi"')}, ${warningHeader("second")}`;
    expect(warningTexts(two)).toEqual(['say "hi"', "second"]);
  });

  test("prints each as `Warning: text`, once per command", () => {
    const lines: string[] = [];
    const print = createWarningPrinter((l) => lines.push(l));
    const headers = new Headers();
    headers.append("Warning", warningHeader("extensions/v1beta1 Deployment is deprecated"));
    print(headers);
    print(headers);
    print(new Headers());
    expect(lines).toEqual(["Warning: extensions/v1beta1 Deployment is deprecated"]);
  });
});
