import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { logStream } from "./container-logs.ts";
import { observeLog } from "./log-index.ts";

/** Log reading on plain files: the size index gives backlog lines their time and `--since` its cut. */
describe("container logs", () => {
  const dir = mkdtempSync("/tmp/minik-logs-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const read = (path: string, opts: Parameters<typeof logStream>[1]) =>
    new Response(logStream(path, opts)).text();
  const stopped = { isRunning: () => false };

  test("timestamps and sinceSeconds come from the size index", async () => {
    const log = `${dir}/a.log`;
    const now = Date.now();
    const old = now - 3_600_000;
    writeFileSync(log, "early\n");
    observeLog(log, old);
    appendFileSync(log, "late-1\nlate-2\n");
    observeLog(log, now - 1000);
    expect(await read(log, { ...stopped, timestamps: true })).toBe(
      [
        `${new Date(old).toISOString().replace("Z", "000000Z")} early`,
        `${new Date(now - 1000).toISOString().replace("Z", "000000Z")} late-1`,
        `${new Date(now - 1000).toISOString().replace("Z", "000000Z")} late-2`,
        "",
      ].join("\n"),
    );
    expect(await read(log, { ...stopped, sinceSeconds: 60 })).toBe("late-1\nlate-2\n");
    expect(await read(log, { ...stopped, sinceSeconds: 7200 })).toBe("early\nlate-1\nlate-2\n");
    expect(await read(log, { ...stopped, tailLines: 1, limitBytes: 3 })).toBe("lat");
  });

  test("a partial last line is stamped once and completed by the follower", async () => {
    const log = `${dir}/b.log`;
    writeFileSync(log, "no newline yet");
    let running = true;
    const ac = new AbortController();
    const reader = logStream(log, {
      follow: true,
      timestamps: true,
      isRunning: () => running,
      signal: ac.signal,
    }).getReader();
    const chunks: string[] = [];
    chunks.push(new TextDecoder().decode((await reader.read()).value));
    appendFileSync(log, " - done\nnext\n");
    running = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(new TextDecoder().decode(value));
    }
    const lines = chunks.join("").split("\n");
    expect(lines[0]).toMatch(/^\S+Z no newline yet - done$/);
    expect(lines[1]).toMatch(/^\S+Z next$/);
  });
});
