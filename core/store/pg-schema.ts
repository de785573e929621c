import { bigint, index, pgSchema, primaryKey, text } from "drizzle-orm/pg-core";
import type postgres from "postgres";

/**
 * The tables of the PostgreSQL store, in a schema of their own (`minik` by default), so several
 * clusters can share one database, each in its own schema. The DDL is `pgSchemaDdl` below, run at
 * start-up; these definitions give drizzle typed columns and must match it.
 */
export function pgTables(schemaName: string) {
  const schema = pgSchema(schemaName);
  return {
    /** Current state: one row per live object. */
    objects: schema.table(
      "objects",
      {
        resource: text("resource").notNull(),
        namespace: text("namespace").notNull(),
        name: text("name").notNull(),
        /** The revision of the write that produced this row: the object's resourceVersion. */
        revision: bigint("revision", { mode: "number" }).notNull(),
        object: text("object").notNull(),
      },
      (t) => [primaryKey({ columns: [t.resource, t.namespace, t.name] })],
    ),
    /** One row per write, for watches (and their resume); trimmed by compaction. */
    changes: schema.table(
      "changes",
      {
        revision: bigint("revision", { mode: "number" }).primaryKey(),
        resource: text("resource").notNull(),
        namespace: text("namespace").notNull(),
        name: text("name").notNull(),
        type: text("type", { enum: ["ADDED", "MODIFIED", "DELETED"] }).notNull(),
        object: text("object").notNull(),
        /** MODIFIED: the object before the change, so a selector watch sees what left it. */
        prev: text("prev"),
      },
      (t) => [index("changes_resource").on(t.resource, t.revision)],
    ),
    /** `revision` (the counter every write increments) and `compacted` (the newest revision trimmed). */
    meta: schema.table("meta", {
      key: text("key").primaryKey(),
      value: bigint("value", { mode: "number" }).notNull(),
    }),
  };
}

export type PgTables = ReturnType<typeof pgTables>;

/** A PostgreSQL identifier minik accepts for its schema: plain lower-case, so it never needs quoting. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Idempotent DDL for the store's schema; run under an advisory lock so two servers starting together do not race. */
export function pgSchemaDdl(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE IF NOT EXISTS ${schema}.objects (
       resource text NOT NULL, namespace text NOT NULL, name text NOT NULL,
       revision bigint NOT NULL, object text NOT NULL,
       PRIMARY KEY (resource, namespace, name))`,
    `CREATE TABLE IF NOT EXISTS ${schema}.changes (
       revision bigint PRIMARY KEY, resource text NOT NULL, namespace text NOT NULL, name text NOT NULL,
       type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')), object text NOT NULL)`,
    `ALTER TABLE ${schema}.changes ADD COLUMN IF NOT EXISTS prev text`,
    `CREATE INDEX IF NOT EXISTS changes_resource ON ${schema}.changes (resource, revision)`,
    `CREATE TABLE IF NOT EXISTS ${schema}.meta (key text PRIMARY KEY, value bigint NOT NULL)`,
    `INSERT INTO ${schema}.meta (key, value) VALUES ('revision', 0), ('compacted', 0) ON CONFLICT DO NOTHING`,
  ];
}

/** The schema_version `pgSchemaDdl` brings a schema to. */
const SCHEMA_VERSION = 2;

async function schemaVersion(client: postgres.Sql, schema: string): Promise<number> {
  try {
    const [row] = await client`SELECT value FROM ${client(schema)}.meta WHERE key = 'schema_version'`;
    return Number(row?.value ?? 0);
  } catch (e) {
    // no schema or no table yet (3F000, 42P01): a fresh database
    if (/^(3F000|42P01)$/.test(String((e as { code?: unknown }).code))) return 0;
    throw e;
  }
}

/**
 * Creates or upgrades the schema only when it is behind: DDL on tables other servers are writing
 * (ALTER TABLE takes an exclusive lock) could deadlock with their transactions. Two servers starting
 * together on an empty database: the advisory lock lets one create while the other waits, and a
 * deadlock the database breaks is simply tried again.
 */
export async function ensureSchema(client: postgres.Sql, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if ((await schemaVersion(client, schema)) >= SCHEMA_VERSION) return;
      await client.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${`minik:${schema}`}))`;
        for (const ddl of pgSchemaDdl(schema)) await tx.unsafe(ddl);
        await tx.unsafe(
          `INSERT INTO ${schema}.meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION})
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        );
      });
      return;
    } catch (e) {
      if (String((e as { code?: unknown }).code) !== "40P01" || attempt >= 5) throw e;
    }
  }
}
