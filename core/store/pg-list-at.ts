import { and, asc, desc, eq, gt, inArray, lte, sql } from "drizzle-orm";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { compareKeys, type PageKey } from "./list-page.ts";
import type { PgTables } from "./pg-schema.ts";
import { StoreError } from "./store-errors.ts";

type Db = PostgresJsDatabase<Record<string, never>>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** One item of a listed state: its key, and its JSON (parsed only if it lands on the page). */
export interface KeyedRow extends PageKey {
  object: string;
}

/** The current objects of a resource, in namespace-then-name order (byte order, as the other stores). */
export async function currentRows(
  tx: Tx,
  t: PgTables,
  resource: string,
  namespace: string | undefined,
): Promise<KeyedRow[]> {
  const o = t.objects;
  return tx
    .select({ namespace: o.namespace, name: o.name, object: o.object })
    .from(o)
    .where(
      namespace === undefined
        ? eq(o.resource, resource)
        : and(eq(o.resource, resource), eq(o.namespace, namespace)),
    )
    .orderBy(sql`${o.namespace} COLLATE "C"`, sql`${o.name} COLLATE "C"`);
}

/**
 * The objects of a resource as they were at `revision` (the later pages of a paged list), rebuilt
 * from the change log inside the caller's snapshot: rows not written since are as they were; a
 * key written since was absent if its first later change is its creation, else it had the value
 * of its last change up to `revision`. Expired when the log no longer reaches back that far.
 */
export async function rowsAt(
  tx: Tx,
  t: PgTables,
  resource: string,
  namespace: string | undefined,
  revision: number,
  bounds: { newest: number; compacted: number },
): Promise<KeyedRow[]> {
  if (revision < bounds.compacted)
    throw new StoreError("Expired", `too old resource version: ${revision} (${bounds.compacted})`);
  if (revision > bounds.newest)
    throw new StoreError("Expired", `too new resource version: ${revision} (newest is ${bounds.newest})`);
  const { objects: o, changes: c } = t;
  const inScope = <T extends typeof o | typeof c>(x: T) =>
    namespace === undefined
      ? eq(x.resource, resource)
      : and(eq(x.resource, resource), eq(x.namespace, namespace));
  const unchanged = await tx
    .select({ namespace: o.namespace, name: o.name, object: o.object })
    .from(o)
    .where(and(inScope(o), lte(o.revision, revision)));
  const later = await tx
    .select({ namespace: c.namespace, name: c.name, type: c.type })
    .from(c)
    .where(and(inScope(c), gt(c.revision, revision)))
    .orderBy(asc(c.revision));
  const existed = new Map<string, PageKey>();
  const seen = new Set<string>();
  for (const ch of later) {
    const k = `${ch.namespace}/${ch.name}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (ch.type !== "ADDED") existed.set(k, { namespace: ch.namespace, name: ch.name });
  }
  const rows: KeyedRow[] = [...unchanged];
  if (existed.size) {
    const names = [...new Set([...existed.values()].map((k) => k.name))];
    const before = await tx
      .select({ namespace: c.namespace, name: c.name, type: c.type, object: c.object })
      .from(c)
      .where(and(inScope(c), lte(c.revision, revision), inArray(c.name, names)))
      .orderBy(desc(c.revision));
    for (const b of before) {
      const k = `${b.namespace}/${b.name}`;
      if (!existed.has(k)) continue;
      existed.delete(k);
      if (b.type !== "DELETED") rows.push({ namespace: b.namespace, name: b.name, object: b.object });
    }
    if (existed.size)
      throw new StoreError(
        "Expired",
        `the state at resource version ${revision} is no longer held for ${resource}: list again`,
      );
  }
  return rows.sort(compareKeys);
}
