import { expect, test } from "bun:test";
import { isVolumeDirName, localVolumeDirName } from "./volume-dir.ts";

test("volume directories are one safe segment; names that could escape are refused", () => {
  expect(localVolumeDirName("pvc-1b2c", "default", "data-db-0")).toBe("pvc-1b2c_default_data-db-0");
  for (const bad of ["../etc", "a/b", "..", "a..b", "", "A", "x_y", ".hidden"]) {
    expect(() => localVolumeDirName("pvc-1", "default", bad)).toThrow("unsafe volume directory part");
  }
  expect(isVolumeDirName("pvc-1_default_data")).toBe(true);
  for (const bad of ["pvc-1_default", "../pvc-1_default_data", "pvc-1_default_data/..", "/tmp"]) {
    expect(isVolumeDirName(bad)).toBe(false);
  }
});
