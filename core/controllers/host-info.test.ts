import { describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { createHostInfo, parseMeminfo } from "./host-info.ts";

describe("host info", () => {
  test("parses /proc/meminfo into bytes", () => {
    const m = parseMeminfo(
      "MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\nHugePages_Total:       0\n",
    );
    expect(m).toEqual({ MemTotal: 16384000 * 1024, MemAvailable: 8192000 * 1024, HugePages_Total: 0 });
  });

  test("reads real figures from this machine", async () => {
    const info = await createHostInfo({ dataDir: tmpdir(), containerRuntimeVersion: "crun://1.8.1" })();
    expect(info.cpuCores).toBeGreaterThan(0);
    expect(info.memoryTotalBytes).toBeGreaterThan(64 * 2 ** 20);
    expect(info.memoryAvailableBytes).toBeGreaterThan(0);
    expect(info.memoryAvailableBytes).toBeLessThanOrEqual(info.memoryTotalBytes);
    expect(info.diskTotalBytes).toBeGreaterThan(0);
    expect(info.diskAvailableBytes).toBeLessThanOrEqual(info.diskTotalBytes);
    expect(info.pidsInUse).toBeGreaterThan(0);
    expect(info.pidMax).toBeGreaterThan(info.pidsInUse);
    expect(info.kernelVersion).toMatch(/^\d+\.\d+/);
    expect(["amd64", "arm64"]).toContain(info.architecture);
    expect(info.hostname).toBe(info.hostname.toLowerCase());
    expect(info.containerRuntimeVersion).toBe("crun://1.8.1");
  });
});
