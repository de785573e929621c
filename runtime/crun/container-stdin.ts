import { closeSync, openSync, write } from "node:fs";
import { mkfifo } from "../supervise/libc.ts";

/**
 * A container's stdin without a process per container: a FIFO in the container's directory.
 *
 * - `stdin` without `stdinOnce` (Kubernetes keeps such a stdin open for good): the container's
 *   fd 0 is the FIFO opened read-write, so it is its own writer and never reads EOF — not between
 *   attaches, not while minik restarts.
 * - `stdinOnce` (`kubectl run -i`): fd 0 is the read end only and this process holds a read-write
 *   fd until the first attached client closes its stdin; then the container reads EOF. A minik
 *   restart before that closes the holder too (there is no shim to keep it): the container reads
 *   EOF early.
 *
 * An attach session writes through its own read-write fd, so opening never blocks on a reader.
 */
export interface ContainerStdins {
  /** Makes the FIFO and returns the fd to hand the container as fd 0 (the caller closes it). */
  create(id: string, path: string, stdinOnce: boolean): number;
  /** The session's stdin; `isRunning` guards writes into a pipe nobody reads any more. */
  writer(id: string, path: string, isRunning: () => boolean): WritableStream<Uint8Array>;
  /** Drops the holder (the container was removed). */
  forget(id: string): void;
}

export function createContainerStdins(): ContainerStdins {
  const holders = new Map<string, number>();
  const release = (id: string) => {
    const fd = holders.get(id);
    if (fd === undefined) return;
    holders.delete(id);
    closeQuietly(fd);
  };
  return {
    create(id, path, stdinOnce) {
      mkfifo(path);
      if (!stdinOnce) return openSync(path, "r+");
      holders.set(id, openSync(path, "r+"));
      return openSync(path, "r"); // a writer (the holder) exists: this open does not block
    },
    writer(id, path, isRunning) {
      let fd: number | undefined = openSync(path, "r+");
      const done = () => {
        if (fd !== undefined) closeQuietly(fd);
        fd = undefined;
        release(id); // stdinOnce: the first client's EOF is the container's
      };
      return new WritableStream<Uint8Array>({
        async write(chunk) {
          if (fd === undefined || !isRunning()) return;
          await writeAll(fd, chunk);
        },
        close: done,
        abort: done,
      });
    },
    forget: release,
  };
}

async function writeAll(fd: number, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    offset += await new Promise<number>((resolve, reject) =>
      write(fd, chunk, offset, chunk.byteLength - offset, null, (err, n) => (err ? reject(err) : resolve(n))),
    );
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}
