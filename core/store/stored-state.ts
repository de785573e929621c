import type { Client } from "@libsql/client";
import { ObjectCache } from "./object-cache.ts";

/** What start-up reads from the database. */
export interface StoredState {
  revision: number;
  compacted: number;
  cache: ObjectCache;
  /** This connection's PRAGMA data_version, to notice another process's writes later. */
  dataVersion: number;
}

/**
 * The revision counter, compaction mark and current objects, read once at start-up. The newest
 * revision is the newest change-log entry (compaction always keeps it), floored by meta values.
 */
export async function readState(client: Client): Promise<StoredState> {
  const marks = await client.execute(
    `SELECT
       (SELECT coalesce(max(revision), 0) FROM changes) AS logged,
       (SELECT coalesce(max(revision), 0) FROM objects) AS stored,
       (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'revision') AS floor,
       (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'compacted') AS compacted`,
  );
  const m = marks.rows[0]!;
  const compacted = Number(m.compacted ?? 0);
  const revision = Math.max(Number(m.logged), Number(m.stored), Number(m.floor ?? 0), compacted);
  const cache = new ObjectCache();
  const all = await client.execute("SELECT resource, namespace, name, revision, object FROM objects");
  for (const r of all.rows) {
    cache.set(String(r.resource), String(r.namespace), String(r.name), {
      revision: Number(r.revision),
      json: String(r.object),
    });
  }
  const version = await client.execute("PRAGMA data_version");
  return { revision, compacted, cache, dataVersion: Number(version.rows[0]![0]) };
}
