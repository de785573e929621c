import { describe, expect, test } from "bun:test";
import { VERSION } from "./version.ts";

describe("VERSION", () => {
  test("names the JavaScript runtime it runs on, not a literal", () => {
    const runtime = "Deno" in globalThis ? "deno" : "bun";
    expect(VERSION.compiler).toBe(runtime);
    expect(VERSION.goVersion).toMatch(new RegExp(`^${runtime} \\d+\\.\\d+`));
    expect(VERSION.minor).toBe("32");
  });
});
