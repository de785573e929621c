import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { waitFor } from "../../test/support/env.ts";
import { createContainerLogWriters } from "./container-log-writer.ts";
import { logStream } from "./container-logs.ts";

/**
 * The log pump on a real FIFO with a real writer process (no root needed): numbered lines
 * written at full speed across many rotations reach a follower exactly once and in order, the
 * kept files stay within the limits, and a pump stopped mid-stream (a minik restart) loses nothing.
 */
describe("container log writer", () => {
  const dir = mkdtempSync("/tmp/minik-logw-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // `seq` writes as fast as the pipe takes it.
  let LINES = 0;
  const writer = (fd: number) =>
    Bun.spawn(["seq", "-f", "line-%06g", "1", String(LINES)], { stdout: fd, stderr: fd });
  const expectAllInOrder = (text: string) => {
    const lines = text.split("\n").filter(Boolean);
    for (let i = 0; i < LINES; i++)
      if (lines[i] !== `line-${String(i + 1).padStart(6, "0")}`) {
        throw new Error(`line ${i + 1} is ${JSON.stringify(lines[i])}`);
      }
    expect(lines.length).toBe(LINES);
  };

  test("full-speed output across rotations: every line once, in order; at most maxFiles kept", async () => {
    LINES = 999_999; // 12 MB: 11 rotations at 1 MiB
    const writers = createContainerLogWriters({ maxBytes: 1 << 20, maxFiles: 5 });
    const log = `${dir}/a/container.log`;
    Bun.spawnSync(["mkdir", "-p", `${dir}/a`]);
    const fd = writers.create("a", `${dir}/a/stdout`, log);
    let running = true;
    const followed = new Response(logStream(log, { follow: true, isRunning: () => running })).text();
    const proc = writer(fd);
    closeSync(fd);
    await proc.exited;
    await writers.drained("a", 10_000);
    running = false;
    expectAllInOrder(await followed);
    const kept = readdirSync(`${dir}/a`)
      .filter((f) => /^container\.log(\.\d+)?$/.test(f))
      .sort();
    expect(kept).toEqual([
      "container.log",
      "container.log.1",
      "container.log.2",
      "container.log.3",
      "container.log.4",
    ]);
    // whole lines in every file (rotation waits for the line's end), each about the limit
    for (const f of kept) {
      const text = readFileSync(`${dir}/a/${f}`, "utf8");
      expect(text).toMatch(/^(line-\d{6}\n)+$/);
      expect(text.length).toBeLessThanOrEqual((1 << 20) + 12);
    }
    // the newest rotated file ends where the live one begins
    const live = readFileSync(log, "utf8").split("\n")[0]!;
    const last = readFileSync(`${log}.1`, "utf8").trim().split("\n").at(-1)!;
    expect(Number(live.slice(5))).toBe(Number(last.slice(5)) + 1);
    writers.close();
  }, 30_000);

  test("a pump stopped mid-stream (minik restarting) and resumed by another loses nothing", async () => {
    LINES = 200_000; // 2.4 MB: ~37 rotations at 64 KiB
    const first = createContainerLogWriters({ maxBytes: 64 * 1024, maxFiles: 50 });
    const log = `${dir}/b/container.log`;
    Bun.spawnSync(["mkdir", "-p", `${dir}/b`]);
    const fd = first.create("b", `${dir}/b/stdout`, log);
    const proc = writer(fd);
    closeSync(fd);
    await waitFor(() => existsSync(`${log}.2`), { what: "two rotations" });
    first.close(); // the writer blocks on the full pipe meanwhile; it never gets SIGPIPE
    const second = createContainerLogWriters({ maxBytes: 64 * 1024, maxFiles: 50 });
    expect(second.resume("b", `${dir}/b/stdout`, log)).toBe(true);
    expect(await proc.exited).toBe(0);
    await second.drained("b", 10_000);
    const files = readdirSync(`${dir}/b`)
      .filter((f) => /^container\.log(\.\d+)?$/.test(f))
      .map((f) => ({ f, n: f === "container.log" ? 0 : Number(f.split(".").at(-1)) }))
      .sort((x, y) => y.n - x.n);
    expectAllInOrder(files.map(({ f }) => readFileSync(`${dir}/b/${f}`, "utf8")).join(""));
    second.close();
  }, 30_000);

  test("a pipe gone quiet is still read: a line after a long silence reaches the file, and the rest at exit", async () => {
    const writers = createContainerLogWriters();
    const log = `${dir}/c/container.log`;
    Bun.spawnSync(["mkdir", "-p", `${dir}/c`]);
    const fd = writers.create("c", `${dir}/c/stdout`, log);
    const proc = Bun.spawn(["sh", "-c", "echo first; sleep 2; echo second; exec sleep 30"], {
      stdout: fd,
      stderr: fd,
    });
    closeSync(fd);
    try {
      await waitFor(() => readFileSync(log, "utf8") === "first\n", { what: "the first line" });
      // by now the pump looks at the idle pipe at its slowest; the line still comes
      await waitFor(() => readFileSync(log, "utf8") === "first\nsecond\n", {
        what: "the line after the silence",
      });
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
      writers.close();
    }
  }, 30_000);
});
