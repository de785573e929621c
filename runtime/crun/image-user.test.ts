import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { resolveImageUser } from "./image-user.ts";

describe("image User resolution", () => {
  const root = mkdtempSync("/tmp/minik-user-");
  const bottom = `${root}/l0`;
  const top = `${root}/l1`;
  mkdirSync(`${bottom}/etc`, { recursive: true });
  mkdirSync(`${top}/etc`, { recursive: true });
  writeFileSync(`${bottom}/etc/passwd`, "root:x:0:0::/:/bin/sh\nold:x:7:7::/:/bin/sh\n");
  // The top layer's /etc/passwd replaces the bottom one.
  writeFileSync(`${top}/etc/passwd`, "root:x:0:0::/:/bin/sh\napp:x:1000:1001::/:/bin/sh\n");
  writeFileSync(`${top}/etc/group`, "root:x:0:\nstaff:x:50:\n");
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const layers = [bottom, top];

  test("empty is root", () => expect(resolveImageUser(undefined, layers)).toEqual({ uid: 0, gid: 0 }));
  test("numeric pair needs no lookup", () => expect(resolveImageUser("5:6", [])).toEqual({ uid: 5, gid: 6 }));
  test("a name gets its primary group", () =>
    expect(resolveImageUser("app", layers)).toEqual({ uid: 1000, gid: 1001 }));
  test("a numeric uid gets its primary group too", () =>
    expect(resolveImageUser("1000", layers)).toEqual({ uid: 1000, gid: 1001 }));
  test("an unknown numeric uid has group 0", () =>
    expect(resolveImageUser("4242", layers)).toEqual({ uid: 4242, gid: 0 }));
  test("name:group", () => expect(resolveImageUser("app:staff", layers)).toEqual({ uid: 1000, gid: 50 }));
  test("the topmost /etc/passwd wins", () =>
    expect(() => resolveImageUser("old", layers)).toThrow(/not in the image's \/etc\/passwd/));
  test("unknown group", () => expect(() => resolveImageUser("app:nogroup", layers)).toThrow(/runAsGroup/));
});
