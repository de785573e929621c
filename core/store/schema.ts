import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The tables the SqlStore reads and writes. Their DDL lives in migrations.ts (versioned, run at
 * start-up); these definitions only give drizzle typed columns and must match the newest migration.
 */

/** Current state: one row per live object, unique by resource/namespace/name. */
export const objects = sqliteTable(
  "objects",
  {
    resource: text("resource").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    /** Revision of the write that produced this row; the object's resourceVersion. */
    revision: integer("revision").notNull(),
    /** The object as JSON, metadata.resourceVersion included. */
    object: text("object").notNull(),
  },
  (t) => [uniqueIndex("objects_key").on(t.resource, t.namespace, t.name)],
);

/** Bounded change log: one row per write, for watch resume. Trimmed by compaction. */
export const changes = sqliteTable(
  "changes",
  {
    revision: integer("revision").primaryKey(),
    resource: text("resource").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["ADDED", "MODIFIED", "DELETED"] }).notNull(),
    object: text("object").notNull(),
    /** MODIFIED: the object before this write (selector watches tell ADDED/DELETED from it). */
    prev: text("prev"),
  },
  (t) => [index("changes_resource").on(t.resource, t.revision)],
);

/** Small key/value facts: schema_version, compacted (newest revision removed from the log), revision (a floor). */
export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});
