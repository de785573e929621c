import type { Client } from "@libsql/client";

/** Default byte bound of the change log (besides its entry count): 64 MiB of object JSON. */
export const DEFAULT_CHANGE_LOG_BYTES = 64 * 1024 * 1024;

/**
 * The size of every change-log entry still stored, oldest first, so compaction can bound the log
 * by bytes as well as by count: a few large objects updated often must not grow the database to
 * count × size (five 32 KB objects × 10,000 updates would be 320 MB).
 */
export class ChangeLogSizes {
  #revisions: number[] = [];
  #sizes: number[] = [];
  #head = 0;
  #total = 0;

  /** Bytes of the entries not yet compacted. */
  get bytes(): number {
    return this.#total;
  }

  add(revision: number, bytes: number): void {
    this.#revisions.push(revision);
    this.#sizes.push(bytes);
    this.#total += bytes;
  }

  /**
   * The revision up to which entries must go for the rest to fit in `limit` bytes; undefined
   * when they fit already. The newest entry always stays.
   */
  trimTarget(limit: number): number | undefined {
    let total = this.#total;
    let i = this.#head;
    const last = this.#revisions.length - 1;
    while (total > limit && i < last) total -= this.#sizes[i++]!;
    return i > this.#head ? this.#revisions[i - 1] : undefined;
  }

  /** Drops the entries up to and including `revision` (they were compacted). */
  forgetUpTo(revision: number): void {
    while (this.#head < this.#revisions.length && this.#revisions[this.#head]! <= revision) {
      this.#total -= this.#sizes[this.#head]!;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#revisions.length) {
      this.#revisions = this.#revisions.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** The sizes of the entries in a database's change log, as of opening it. */
export async function readChangeLogSizes(client: Client): Promise<ChangeLogSizes> {
  const sizes = new ChangeLogSizes();
  const rows = await client.execute(
    "SELECT revision, length(object) + coalesce(length(prev), 0) AS bytes FROM changes ORDER BY revision",
  );
  for (const row of rows.rows) sizes.add(Number(row.revision), Number(row.bytes));
  return sizes;
}
