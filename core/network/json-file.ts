import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pid } from "node:process";

/**
 * A JSON document kept in one file, replaced atomically (write a temp file, then rename), so a
 * crash mid-write leaves the previous version. Used for network state that must survive restarts
 * (pod IP allocations, hostPort mappings).
 */
export interface JsonFile<T> {
  read(): Promise<T | undefined>;
  write(value: T): Promise<void>;
}

export function createJsonFile<T>(path: string): JsonFile<T> {
  // Writes run one at a time, in call order: concurrent ones would race on the temp file, and
  // an older state could land last.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    async read() {
      try {
        return JSON.parse(await readFile(path, "utf8")) as T;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new Error(`reading network state ${path}: ${(e as Error).message}`);
      }
    },
    write(value) {
      const text = `${JSON.stringify(value, null, 1)}\n`;
      const next = queue.then(async () => {
        await mkdir(dirname(path), { recursive: true });
        const temp = `${path}.${pid}.tmp`;
        await writeFile(temp, text);
        await rename(temp, path);
      });
      queue = next.catch(() => {});
      return next;
    },
  };
}

/** IpamPersistence backed by a JSON file, e.g. `<data-dir>/network/ipam.json`. */
export function createFileIpamPersistence(path: string) {
  const file = createJsonFile<Record<string, string>>(path);
  return { load: () => file.read(), save: (allocations: Record<string, string>) => file.write(allocations) };
}
