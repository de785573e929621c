import { bigint, index, pgSchema, primaryKey, text } from "drizzle-orm/pg-core";

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
