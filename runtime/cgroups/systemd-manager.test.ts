import { describe, expect, test } from "bun:test";
import { parseUnitState } from "./systemd-manager.ts";

describe("systemctl show", () => {
  test("a running scope", () => {
    expect(parseUnitState("ActiveState=active\nControlGroup=/minik.slice/minik-1a2b3c4d.scope\n")).toEqual({
      activeState: "active",
      controlGroup: "/minik.slice/minik-1a2b3c4d.scope",
    });
  });

  test("a unit systemd does not know", () => {
    expect(parseUnitState("ActiveState=inactive\nControlGroup=\n")).toEqual({
      activeState: "inactive",
      controlGroup: undefined,
    });
  });
});
