import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "../../core/errors.ts";
import { createIpam, createMemoryIpamPersistence } from "./ipam.ts";
import { createFileIpamPersistence, createJsonFile } from "./json-file.ts";

describe("ipam", () => {
  test("skips the gateway, is idempotent per owner, never hands out an address in use", async () => {
    const ipam = await createIpam({ cidr: "10.9.0.0/29" });
    expect(ipam.gateway).toBe("10.9.0.1");
    const a = await ipam.allocate("a");
    expect(a).toBe("10.9.0.2");
    expect(await ipam.allocate("a")).toBe(a);
    const all = [a];
    for (const owner of ["b", "c", "d", "e"]) all.push(await ipam.allocate(owner));
    expect(new Set(all).size).toBe(5);
    expect(all).not.toContain("10.9.0.1");
    expect(all).not.toContain("10.9.0.7"); // broadcast
    const err = await ipam.allocate("f").catch((e) => e);
    expect(isApiError(err, "ServiceUnavailable")).toBe(true);
    expect(err.message).toContain("10.9.0.0/29");
    await ipam.release("c");
    expect(await ipam.allocate("f")).toBe(all[2]!);
  });

  test("allocations survive a restart through the persistence and reconcile frees dead owners", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipam-"));
    const path = join(dir, "net", "ipam.json");
    const first = await createIpam({ cidr: "10.9.0.0/24", persistence: createFileIpamPersistence(path) });
    const a = await first.allocate("a");
    const b = await first.allocate("b");
    const second = await createIpam({ cidr: "10.9.0.0/24", persistence: createFileIpamPersistence(path) });
    expect(second.lookup("a")).toBe(a);
    const c = await second.allocate("c");
    expect([a, b]).not.toContain(c);
    expect(await second.reconcile(["b", "c"])).toEqual(["a"]);
    const third = await createIpam({ cidr: "10.9.0.0/24", persistence: createFileIpamPersistence(path) });
    expect(third.allocations()).toEqual({ b, c });
    rmSync(dir, { recursive: true, force: true });
  });

  test("claim records an address found on a live pod, unless another owner holds it", async () => {
    const ipam = await createIpam({ cidr: "10.9.0.0/24" });
    expect(await ipam.claim("a", "10.9.0.50")).toBe(true);
    expect(ipam.lookup("a")).toBe("10.9.0.50");
    expect(await ipam.claim("b", "10.9.0.50")).toBe(false);
    expect(await ipam.claim("b", "10.9.0.1")).toBe(false);
    expect(await ipam.claim("b", "10.10.0.5")).toBe(false);
    const others = await Promise.all(Array.from({ length: 60 }, (_, i) => ipam.allocate(`p${i}`)));
    expect(others).not.toContain("10.9.0.50");
  });

  test("concurrent allocations get distinct addresses", async () => {
    const ipam = await createIpam({ cidr: "10.9.0.0/24", persistence: createMemoryIpamPersistence() });
    const ips = await Promise.all(Array.from({ length: 50 }, (_, i) => ipam.allocate(`p${i}`)));
    expect(new Set(ips).size).toBe(50);
  });

  test("concurrent writes of the state file all land, the last one winning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ipam-"));
    const file = createJsonFile<number>(join(dir, "n.json"));
    await Promise.all(Array.from({ length: 30 }, (_, i) => file.write(i)));
    expect(await file.read()).toBe(29);
    rmSync(dir, { recursive: true, force: true });
  });

  test("rejects a malformed range with a message naming it", async () => {
    await expect(createIpam({ cidr: "10.9.0.0/33" })).rejects.toThrow('"10.9.0.0/33"');
  });
});
