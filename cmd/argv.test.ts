import { describe, expect, test } from "bun:test";
import { stdinFilenameArgs } from "./argv.ts";

describe("stdinFilenameArgs", () => {
  test("-f - and --filename - become --filename=-", () => {
    expect(stdinFilenameArgs(["bun", "minik", "apply", "-f", "-"])).toEqual([
      "bun",
      "minik",
      "apply",
      "--filename=-",
    ]);
    expect(stdinFilenameArgs(["apply", "--filename", "-", "-n", "x"])).toEqual([
      "apply",
      "--filename=-",
      "-n",
      "x",
    ]);
    expect(stdinFilenameArgs(["delete", "-f", "a.yaml", "-f", "-"])).toEqual([
      "delete",
      "-f",
      "a.yaml",
      "--filename=-",
    ]);
  });

  test("leaves files, other flags and everything after -- alone", () => {
    expect(stdinFilenameArgs(["apply", "-f", "x.yaml"])).toEqual(["apply", "-f", "x.yaml"]);
    expect(stdinFilenameArgs(["exec", "p", "--", "cat", "-f", "-"])).toEqual([
      "exec",
      "p",
      "--",
      "cat",
      "-f",
      "-",
    ]);
    expect(stdinFilenameArgs(["logs", "-f", "pod"])).toEqual(["logs", "-f", "pod"]);
  });
});
