import { eventfd, writeEventfd } from "./libc.ts";

/**
 * A Worker thread blocking in poll(2) over a set of fds (pidfds of container inits, OOM eventfds)
 * plus a wake eventfd, so the main thread learns of exits within a millisecond without polling.
 *
 * The fd list lives in a SharedArrayBuffer (the worker cannot take messages while it blocks in
 * poll). A reported fd is muted until the main thread publishes a new list, so a still-readable fd
 * (an unreaped pidfd) cannot make the worker spin. The worker is built from a Blob so the compiled
 * binary needs no extra entry point.
 */
const MAX_FDS = 4096;
// Int32 slots: [0] generation, [1] stop flag, [2] count, [3..] fds
const HEADER = 3;

const workerSource = `
import { dlopen } from "bun:ffi";
const { poll, read } = dlopen("libc.so.6", {
  poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i64" },
}).symbols;
self.onmessage = (e) => {
  const { shared, wake } = e.data;
  const view = new Int32Array(shared);
  let muted = new Set();
  let mutedGen = -1;
  for (;;) {
    if (Atomics.load(view, 1)) break;
    const gen = Atomics.load(view, 0);
    if (gen !== mutedGen) { muted = new Set(); mutedGen = gen; }
    const n = Atomics.load(view, 2);
    const fds = [wake];
    for (let i = 0; i < n; i++) { const fd = Atomics.load(view, ${HEADER} + i); if (!muted.has(fd)) fds.push(fd); }
    const pfd = new Uint8Array(fds.length * 8);
    const dv = new DataView(pfd.buffer);
    fds.forEach((fd, i) => { dv.setInt32(i * 8, fd, true); dv.setInt16(i * 8 + 4, 1, true); });
    if (poll(pfd, fds.length, -1) < 0) continue;
    const ready = [];
    for (let i = 0; i < fds.length; i++) {
      if (dv.getInt16(i * 8 + 6, true) === 0) continue;
      if (i === 0) read(wake, new BigUint64Array(1), 8);
      else { ready.push(fds[i]); muted.add(fds[i]); }
    }
    if (ready.length) postMessage(ready);
  }
  self.close();
};
`;

export interface PollWorker {
  /** Publishes the fds to watch (replacing the previous set) and wakes the worker. */
  watch(fds: Iterable<number>): void;
  close(): void;
}

export function createPollWorker(onReady: (fds: number[]) => void): PollWorker {
  const shared = new SharedArrayBuffer((HEADER + MAX_FDS) * 4);
  const view = new Int32Array(shared);
  const wake = eventfd();
  const url = URL.createObjectURL(new Blob([workerSource], { type: "application/javascript" }));
  const worker = new Worker(url);
  (worker as unknown as { unref(): void }).unref();
  worker.onmessage = (e: MessageEvent<number[]>) => onReady(e.data);
  worker.postMessage({ shared, wake });
  return {
    watch(fds) {
      const list = [...fds].slice(0, MAX_FDS);
      Atomics.store(view, 2, 0);
      for (const [i, fd] of list.entries()) Atomics.store(view, HEADER + i, fd);
      Atomics.store(view, 2, list.length);
      Atomics.add(view, 0, 1);
      writeEventfd(wake);
    },
    close() {
      Atomics.store(view, 1, 1);
      writeEventfd(wake);
      URL.revokeObjectURL(url);
    },
  };
}
