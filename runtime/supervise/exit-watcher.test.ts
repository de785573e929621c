import { afterAll, describe, expect, test } from "bun:test";
import { createExitWatcher, type ExitInfo } from "./exit-watcher.ts";
import { closeFd, eventfd, pidfdExitInfo, pidfdOpen, waitStatusToExitCode, writeEventfd } from "./libc.ts";

/**
 * The exit watcher without crun: an orphaned grandchild re-parents to us (child subreaper), its
 * exit arrives through the poll worker within milliseconds with its code, and eventfds fire.
 */
describe("exit watcher", () => {
  const w = createExitWatcher();
  afterAll(() => w.close());

  async function orphan(script: string): Promise<number> {
    // The middle shell exits at once, so the grandchild is re-parented: the crun run -d situation.
    const p = Bun.spawn(["sh", "-c", `sh -c '${script}' >/dev/null 2>&1 & echo $!`], { stdout: "pipe" });
    const pid = Number((await new Response(p.stdout).text()).trim());
    await p.exited;
    return pid;
  }

  const exitOf = (pid: number) =>
    new Promise<{ info: ExitInfo; at: number }>((resolve, reject) => {
      if (!w.watchPid(pid, (info) => resolve({ info, at: performance.now() })))
        reject(new Error(`${pid} gone`));
    });

  test("an orphan's exit code arrives promptly", async () => {
    const pid = await orphan("sleep 0.3; exit 7");
    const ppid = (await Bun.file(`/proc/${pid}/stat`).text()).split(") ")[1]!.split(" ")[1];
    expect(Number(ppid)).toBe(process.pid);
    const start = performance.now();
    const { info, at } = await exitOf(pid);
    expect(info.exitCode).toBe(7);
    expect(at - start).toBeLessThan(1000);
  });

  test("signal reaches a watched process through its pidfd; a gone or unwatched one says so", async () => {
    const pid = await orphan("sleep 30");
    const done = exitOf(pid);
    expect(w.signal(pid, 15)).toBe(true);
    expect((await done).info.exitCode).toBe(128 + 15);
    expect(w.signal(pid, 9)).toBeUndefined(); // no longer watched: the caller falls back to crun kill
  });

  test("a signal is 128 + its number", async () => {
    const pid = await orphan("sleep 30");
    const done = exitOf(pid);
    process.kill(pid, "SIGKILL");
    expect((await done).info.exitCode).toBe(137);
  });

  test("eventfds fire each time they count", async () => {
    const fd = eventfd();
    let fired = 0;
    w.watchEventfd(fd, () => fired++);
    writeEventfd(fd);
    await Bun.sleep(50);
    writeEventfd(fd);
    const deadline = Date.now() + 2000;
    while (fired < 2 && Date.now() < deadline) await Bun.sleep(5);
    expect(fired).toBe(2);
    w.unwatchEventfd(fd);
  });

  test("PIDFD_INFO_EXIT tells the status of a process someone else reaped (the after-restart path)", async () => {
    const p = Bun.spawn(["sh", "-c", "sleep 0.1; exit 5"]);
    const fd = pidfdOpen(p.pid)!;
    expect(pidfdExitInfo(fd)).toBeUndefined(); // still running
    await p.exited; // Bun reaps it, not us
    expect(waitStatusToExitCode(pidfdExitInfo(fd)!)).toBe(5);
    closeFd(fd);
  });

  test("watching a process that is gone says so", async () => {
    const p = Bun.spawn(["true"]);
    await p.exited;
    expect(w.watchPid(p.pid, () => {})).toBe(false);
  });
});
