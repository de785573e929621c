import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import type { ContainerStatus } from "../../core/seams/container-runtime.ts";
import { host, skipUnless } from "../../test/support/env.ts";
import { releaseCrunNamespace } from "./crun-namespace.ts";

/**
 * A real restart: generation 1 (its own process) starts containers and is killed with SIGKILL;
 * generation 2 (another process, not the containers' parent) adopts them without duplicates and
 * learns the exit code of one that exits afterwards (from /proc/PID/stat or PIDFD_INFO_EXIT).
 */
const script = new URL("./testing/restart-generation.ts", import.meta.url).pathname;

async function lines(
  stream: ReadableStream<Uint8Array>,
  onLine: (o: any) => boolean | undefined,
): Promise<void> {
  const decoder = new TextDecoder();
  let buf = "";
  const reader = stream.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value);
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith("{") && onLine(JSON.parse(line))) return reader.releaseLock();
      i = buf.indexOf("\n");
    }
  }
}

describe.skipIf(skipUnless(host.canRunContainers, "crun restart", "needs root and crun"))(
  "CrunRuntime restart",
  () => {
    const dataDir = mkdtempSync("/tmp/minik-crun-restart-");
    afterAll(() => {
      releaseCrunNamespace(`${dataDir}/run`);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("a new process adopts running containers after kill -9 and reports later exits", async () => {
      const gen1 = Bun.spawn([process.execPath, script, "gen1", dataDir], {
        stdout: "pipe",
        stderr: "inherit",
      });
      let ids: { sleeper: string; exiter: string } | undefined;
      await lines(gen1.stdout, (o) => {
        ids = o;
        return true;
      });
      gen1.kill("SIGKILL");
      await gen1.exited;
      expect(ids?.sleeper).toBeTruthy();

      const gen2 = Bun.spawn([process.execPath, script, "gen2", dataDir], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const out: any[] = [];
      await lines(gen2.stdout, (o) => {
        out.push(o);
        return false;
      });
      expect(await gen2.exited).toBe(0);
      const [listing, again, afterExit, stopped] = out;
      const listed = listing.listed as ContainerStatus[];
      expect(listed.filter((c) => c.id === ids!.sleeper).map((c) => c.state)).toEqual(["running"]);
      expect(listing.sandboxes.map((s: { podUid: string }) => s.podUid)).toEqual(["restart-pod-0001"]);
      expect(again).toEqual({ again: ids!.sleeper, count: 2 });
      const exiter = (afterExit.afterExit as ContainerStatus[]).find((c) => c.id === ids!.exiter);
      expect(exiter?.state).toBe("exited");
      expect(exiter?.exitCode).toBe(5);
      expect(stopped.stopped.state).toBe("exited");
      expect(stopped.stopped.exitCode).toBe(137);
    }, 20_000);
  },
);
