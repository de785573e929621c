import type { Client } from "@libsql/client";

/**
 * The schema's history, oldest first. A released migration is never edited: a change to the
 * schema is a new entry with the next version. Each runs in one transaction together with the
 * bump of `schema_version` in the meta table, so a crash leaves either the old or the new schema.
 */
export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "objects, change log, meta",
    statements: [
      `CREATE TABLE objects (
        resource TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        object TEXT NOT NULL,
        PRIMARY KEY (resource, namespace, name)
      ) WITHOUT ROWID`,
      `CREATE TABLE changes (
        revision INTEGER PRIMARY KEY,
        resource TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        object TEXT NOT NULL
      )`,
      "CREATE INDEX changes_resource ON changes (resource, revision)",
      "INSERT INTO meta (key, value) VALUES ('revision', '0'), ('compacted', '0')",
    ],
  },
  {
    // Measured: a write touched ~7 pages. A WITHOUT ROWID row over ~1 KB spills into an overflow
    // page, and the meta revision row cost one more page per commit. A rowid table keeps objects
    // up to ~4 KB inline; the revision is derived from the change log at start-up instead.
    version: 2,
    name: "objects as a rowid table; revision derived from the change log",
    statements: [
      `CREATE TABLE objects_v2 (
        resource TEXT NOT NULL,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        object TEXT NOT NULL
      )`,
      "INSERT INTO objects_v2 (resource, namespace, name, revision, object) SELECT resource, namespace, name, revision, object FROM objects",
      "DROP TABLE objects",
      "ALTER TABLE objects_v2 RENAME TO objects",
      "CREATE UNIQUE INDEX objects_key ON objects (resource, namespace, name)",
      // Keep the newest revision even if the log were empty (it never is after a write).
      "UPDATE meta SET value = max(CAST(value AS INTEGER), (SELECT coalesce(max(revision), 0) FROM changes)) WHERE key = 'revision'",
    ],
  },
  {
    // A watch with a selector tells "stopped matching" (DELETED) and "started matching" (ADDED)
    // from the object before and after each update, as kube-apiserver's watch cache keeps
    // prevObject; a resumed watch replays from the log, so the log keeps it too.
    version: 3,
    name: "the previous object of each update in the change log",
    statements: ["ALTER TABLE changes ADD COLUMN prev TEXT"],
  },
];

/**
 * Brings the database up to the newest schema; returns the versions it applied (none on a
 * database that is already current, so running it on every start-up is safe).
 */
export async function migrate(
  client: Client,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await client.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  const row = await client.execute("SELECT value FROM meta WHERE key = 'schema_version'");
  const current = row.rows.length ? Number(row.rows[0]!.value) : 0;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new Error(
      `store: database schema version ${current} is newer than this minik knows (${newest}); use a newer minik or another data dir`,
    );
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    try {
      await client.batch(
        [
          ...m.statements,
          {
            sql: "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args: [String(m.version)],
          },
        ],
        "write",
      );
    } catch (e) {
      throw new Error(`store: migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
    }
    applied.push(m.version);
  }
  return applied;
}
