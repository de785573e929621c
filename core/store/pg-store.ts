import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { KubeObject, WatchEventType } from "../object.ts";
import { pageBounds } from "./list-page.ts";
import { ChangeFeed, FEED_CHUNK } from "./pg-change-feed.ts";
import { currentRows, type KeyedRow, rowsAt } from "./pg-list-at.ts";
import { ensureSchema, type PgTables, pgTables, SCHEMA_NAME } from "./pg-schema.ts";
import type { ListAt, Listed, Store } from "./store.ts";
import {
  checkPreconditions,
  identify,
  parseRevision,
  redactUrl,
  StoreError,
  storeErrors,
} from "./store-errors.ts";
import { type Change, matches, type StoreEvent, WatchHub } from "./watch-hub.ts";

/**
 * The Store on PostgreSQL, for API servers that share one database (as k3s's kine does over
 * Postgres, without its gap-filling: here revisions cannot have gaps). Every write, in one
 * transaction: bump the `revision` counter row (its row lock orders the writers, so revisions are
 * committed in order and without holes), change `objects`, append to `changes`, NOTIFY. Each
 * server follows `changes` (LISTEN, plus a slow poll as a safety net) into its watch hub; reads go
 * to the database, so a write through any server is seen at once by a read through any other.
 */
export interface PgStoreOptions {
  /** `postgres://user:password@host:5432/database` (`postgresql://` too). */
  url: string;
  /** The schema holding minik's tables (default `minik`): one per cluster sharing a database. */
  schema?: string;
  /** Newest change-log entries kept for watch resume (default 10,000). */
  changeLogLimit?: number;
  /** How often the change log is trimmed in the background (default 5 min; 0 = never). */
  compactIntervalMs?: number;
  /** The safety-net poll of the change log, should a NOTIFY be lost (default 1 s). */
  pollIntervalMs?: number;
  /** TLS to the server: CA, client certificate and key (PEM text). */
  tls?: { ca?: string; cert?: string; key?: string };
}

type Db = PostgresJsDatabase<Record<string, never>>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

interface Written {
  type: WatchEventType;
  json: string;
  /** MODIFIED: the object it replaced. */
  prev?: string;
}

/** The JSON of `obj` with its resourceVersion set to `revision`. */
function stamp(obj: KubeObject, revision: number): string {
  return JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
}

/** SQLSTATE classes and client codes that mean "the database cannot be reached", not "refused". */
function isUnreachable(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    const code = String((c as { code?: unknown }).code ?? "");
    if (/^(08|57P0[123]|53300)/.test(code)) return true;
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_)/.test(code))
      return true;
  }
  return false;
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
}

export class PgStore implements Store {
  readonly #sql: postgres.Sql;
  readonly #db: Db;
  readonly #t: PgTables;
  readonly #where: string;
  readonly #channel: string;
  readonly #hub = new WatchHub();
  readonly #feed: ChangeFeed;
  readonly #limit: number;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  /** Revisions running replays still read; this server's compaction stays below the lowest. */
  readonly #pins: number[] = [];
  #unlisten: (() => Promise<void>) | undefined;
  #pending = 0;
  #drained: (() => void) | undefined;
  #closed = false;

  constructor(client: postgres.Sql, schema: string, where: string, revision: number, opts: PgStoreOptions) {
    this.#sql = client;
    this.#db = drizzle(client);
    this.#t = pgTables(schema);
    this.#channel = channelOf(schema);
    this.#where = where;
    this.#limit = Math.max(1, opts.changeLogLimit ?? 10_000);
    this.#feed = new ChangeFeed(
      this.#hub,
      (after, limit) => this.#readChanges(after, limit),
      revision,
      (want, got) =>
        console.error(
          `store: the change log of ${where} lost revisions ${want}..${got - 1} before this server read them (compacted while it was cut off); watches on this server missed them`,
        ),
    );
    this.#every(opts.pollIntervalMs ?? 1_000, () => this.#feed.poke());
    this.#every(opts.compactIntervalMs ?? 5 * 60_000, () => this.compact());
  }

  /** Starts following other servers' writes (LISTEN); resolves once listening. */
  async listen(): Promise<void> {
    const l = await this.#sql.listen(
      this.#channel,
      () => void this.#feed.poke().catch(() => {}),
      // Also on every reconnect: what was committed while the connection was down.
      () => void this.#feed.poke().catch(() => {}),
    );
    this.#unlisten = () => l.unlisten();
  }

  async create(resource: string, obj: KubeObject): Promise<KubeObject> {
    const { namespace, name } = identify(resource, obj);
    const o = this.#t.objects;
    return this.#write(resource, namespace, name, async (tx, revision) => {
      const json = stamp(obj, revision);
      const rows = await tx
        .insert(o)
        .values({ resource, namespace, name, revision, object: json })
        .onConflictDoNothing()
        .returning({ revision: o.revision });
      if (rows.length !== 1) throw storeErrors(resource, name).alreadyExists();
      return { type: "ADDED", json };
    });
  }

  async get(resource: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.#op(async () => {
      const o = this.#t.objects;
      const rows = await this.#db
        .select({ object: o.object })
        .from(o)
        .where(this.#pk(resource, namespace, name));
      return rows[0] && (JSON.parse(rows[0].object) as KubeObject);
    });
  }

  async list(resource: string, namespace?: string, at: ListAt = {}): Promise<Listed> {
    const past = at.resourceVersion ? parseRevision(`a list of ${resource}`, at.resourceVersion) : undefined;
    return this.#op(() =>
      // One snapshot for the counters and the rows: the items are exactly the state at that revision.
      this.#db.transaction(
        async (tx) => {
          const newest = await this.#counter(tx, "revision");
          const rows =
            past === undefined
              ? await currentRows(tx, this.#t, resource, namespace)
              : await rowsAt(tx, this.#t, resource, namespace, past, {
                  newest,
                  compacted: await this.#counter(tx, "compacted"),
                });
          const resourceVersion = String(past ?? newest);
          const parse = (r: KeyedRow) => JSON.parse(r.object) as KubeObject;
          if (!at.after && !at.limit) return { items: rows.map(parse), resourceVersion };
          const { from, to } = pageBounds(rows.length, (i) => rows[i]!, at.after, at.limit);
          return { items: rows.slice(from, to).map(parse), resourceVersion, remaining: rows.length - to };
        },
        { isolationLevel: "repeatable read", accessMode: "read only" },
      ),
    );
  }

  async update(resource: string, obj: KubeObject): Promise<KubeObject> {
    const { namespace, name } = identify(resource, obj);
    const rv = obj.metadata.resourceVersion;
    const expected = rv ? parseRevision(`${resource} "${name}"`, rv) : undefined;
    const o = this.#t.objects;
    return this.#write(resource, namespace, name, async (tx, revision) => {
      const err = storeErrors(resource, name);
      const key = this.#pk(resource, namespace, name);
      // Writers are already ordered by the counter row; the row lock just says so to the database.
      const current = (await tx.select().from(o).where(key).for("update"))[0];
      if (!current) throw err.notFound();
      if (expected !== undefined && expected !== Number(current.revision)) throw err.conflict();
      const json = stamp(obj, revision);
      await tx.update(o).set({ revision, object: json }).where(key);
      return { type: "MODIFIED", json, prev: current.object };
    });
  }

  async delete(
    resource: string,
    namespace: string,
    name: string,
    preconditions?: { resourceVersion?: string; uid?: string },
  ): Promise<KubeObject> {
    const o = this.#t.objects;
    return this.#write(resource, namespace, name, async (tx, revision) => {
      const err = storeErrors(resource, name);
      const key = this.#pk(resource, namespace, name);
      const current = (await tx.select().from(o).where(key).for("update"))[0];
      if (!current) throw err.notFound();
      const obj = JSON.parse(current.object) as KubeObject;
      checkPreconditions(err, preconditions, obj, current.revision);
      await tx.delete(o).where(key);
      return { type: "DELETED", json: stamp(obj, revision) };
    });
  }

  async watch(
    filter: { resource?: string; namespace?: string; sinceResourceVersion?: string },
    onEvent: (event: StoreEvent) => void,
  ): Promise<() => void> {
    const { resource, namespace } = filter;
    const since = filter.sinceResourceVersion;
    const after =
      since === undefined || since === ""
        ? undefined
        : parseRevision(`a watch of ${resource ?? "all resources"}`, since);
    // Pinned before anything awaits: this server's compaction must leave (after, …] alone.
    const pin = after ?? this.#feed.last;
    this.#pins.push(pin);
    try {
      return await this.#subscribe(resource, namespace, after, onEvent);
    } finally {
      this.#pins.splice(this.#pins.indexOf(pin), 1);
    }
  }

  #subscribe(
    resource: string | undefined,
    namespace: string | undefined,
    after: number | undefined,
    onEvent: (event: StoreEvent) => void,
  ): Promise<() => void> {
    return this.#op(async () => {
      // The revision may come from a read through another server: catch up with it first.
      if (after !== undefined && after > this.#feed.last) await this.#feed.poke();
      if (after !== undefined && after > this.#feed.last) {
        throw new StoreError(
          "Expired",
          `too new resource version: ${after} (newest is ${this.#feed.last}); the store was reset, list again`,
        );
      }
      const compacted = await this.#counter(this.#db, "compacted");
      if (after !== undefined && after < compacted) {
        throw new StoreError("Expired", `too old resource version: ${after} (${compacted})`);
      }
      // Synchronous from reading `last` to subscribing: every later change reaches the subscriber.
      const upTo = this.#feed.last;
      const from = after ?? upTo;
      const sub = this.#hub.subscribe({ resource, namespace }, onEvent, from, from < upTo);
      if (from < upTo) {
        try {
          await this.#replay({ resource, namespace }, from, upTo, sub);
        } catch (e) {
          sub.stop();
          throw e;
        }
        sub.goLive();
      }
      return sub.stop;
    });
  }

  async currentResourceVersion(): Promise<string> {
    return this.#op(async () => String(await this.#counter(this.#db, "revision")));
  }

  /** Trims the change log to its newest `changeLogLimit` revisions; other servers may do it too. */
  async compact(): Promise<number> {
    return this.#op(async () => {
      const { changes, meta } = this.#t;
      // Nor past what this server's feed has read: its watchers would miss those changes.
      const pinned = Math.min(this.#feed.last, ...this.#pins);
      return this.#db.transaction(async (tx) => {
        const revision = await this.#counter(tx, "revision");
        const compacted = await this.#counter(tx, "compacted", true);
        const target = Math.min(revision - this.#limit, pinned);
        if (target <= compacted) return 0;
        // Raise the mark with the delete, in one transaction: a watch below it is Expired, never short.
        await tx.update(meta).set({ value: target }).where(eq(meta.key, "compacted"));
        const gone = await tx
          .delete(changes)
          .where(lte(changes.revision, target))
          .returning({ revision: changes.revision });
        return gone.length || target - compacted;
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#pending > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#hub.clear();
    await this.#unlisten?.().catch(() => {});
    await this.#sql.end({ timeout: 5 });
  }

  /**
   * One write: bump the counter (locking its row until commit orders the writers), let `body`
   * change `objects`, append the change, NOTIFY the other servers, commit; then this server's feed
   * publishes it to local watchers.
   */
  #write(
    resource: string,
    namespace: string,
    name: string,
    body: (tx: Tx, revision: number) => Promise<Written>,
  ): Promise<KubeObject> {
    return this.#op(async () => {
      const { changes, meta } = this.#t;
      const w = await this.#db.transaction(async (tx) => {
        const [row] = await tx
          .update(meta)
          .set({ value: sql`${meta.value} + 1` })
          .where(eq(meta.key, "revision"))
          .returning({ value: meta.value });
        const revision = Number(row!.value);
        const w = await body(tx, revision);
        await tx.insert(changes).values({
          revision,
          resource,
          namespace,
          name,
          type: w.type,
          object: w.json,
          prev: w.prev ?? null,
        });
        await tx.execute(sql`SELECT pg_notify(${this.#channel}, ${String(revision)})`);
        return w;
      });
      await this.#feed.poke();
      return JSON.parse(w.json) as KubeObject;
    });
  }

  async #replay(
    filter: { resource?: string; namespace?: string },
    after: number,
    upTo: number,
    sub: { deliver(c: Iterable<Change>): void; readonly stopped: boolean },
  ): Promise<void> {
    const { changes } = this.#t;
    let from = after;
    while (from < upTo && !sub.stopped) {
      const range = and(gt(changes.revision, from), lte(changes.revision, upTo));
      const rows = await this.#db
        .select()
        .from(changes)
        .where(filter.resource === undefined ? range : and(eq(changes.resource, filter.resource), range))
        .orderBy(asc(changes.revision))
        .limit(FEED_CHUNK);
      // Another server may have compacted while we read: a short replay would be a silent gap.
      const compacted = await this.#counter(this.#db, "compacted");
      if (compacted > from)
        throw new StoreError("Expired", `too old resource version: ${after} (${compacted})`);
      sub.deliver(rows.filter((r) => matches(filter, r)).map(toChange));
      if (rows.length < FEED_CHUNK) return;
      from = rows.at(-1)!.revision;
    }
  }

  async #readChanges(after: number, limit: number): Promise<Change[]> {
    const { changes } = this.#t;
    const rows = await this.#db
      .select()
      .from(changes)
      .where(gt(changes.revision, after))
      .orderBy(asc(changes.revision))
      .limit(limit);
    return rows.map(toChange);
  }

  async #counter(db: Db | Tx, key: "revision" | "compacted", lock = false): Promise<number> {
    const { meta } = this.#t;
    const q = db.select({ value: meta.value }).from(meta).where(eq(meta.key, key));
    const rows = lock ? await q.for("update") : await q;
    return Number(rows[0]?.value ?? 0);
  }

  #pk(resource: string, namespace: string, name: string) {
    const o = this.#t.objects;
    return and(eq(o.resource, resource), eq(o.namespace, namespace), eq(o.name, name));
  }

  #every(ms: number, fn: () => Promise<unknown>): void {
    if (ms <= 0) return;
    const t = setInterval(() => {
      if (!this.#closed) void fn().catch(() => {});
    }, ms);
    (t as { unref?: () => void }).unref?.();
    this.#timers.push(t);
  }

  /** Every operation counts itself, so close() lets running ones finish; failures become StoreErrors. */
  async #op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError("Closed", "the store is closed; restart minik");
    this.#pending++;
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      if (isUnreachable(e))
        throw new StoreError("Unavailable", `postgres at ${this.#where} cannot be reached: ${causeText(e)}`);
      throw new StoreError("Internal", `postgres at ${this.#where}: ${causeText(e)}`);
    } finally {
      if (--this.#pending === 0) this.#drained?.();
    }
  }
}

function toChange(r: {
  revision: number;
  resource: string;
  namespace: string;
  type: WatchEventType;
  object: string;
  prev?: string | null;
}): Change {
  return {
    revision: Number(r.revision),
    resource: r.resource,
    namespace: r.namespace,
    type: r.type,
    json: r.object,
    prev: r.prev ?? undefined,
  };
}

/** The NOTIFY channel of one schema's writes. */
export const channelOf = (schema: string) => `${schema}_changes`;

/** Connects, creates the schema when missing, and returns a Store following the change log. */
export async function createPgStore(opts: PgStoreOptions): Promise<PgStore> {
  const schema = opts.schema ?? "minik";
  if (!SCHEMA_NAME.test(schema))
    throw new StoreError(
      "InvalidObject",
      `postgres schema "${schema}": use lower-case letters, digits and _ (at most 63, not starting with a digit)`,
    );
  const where = `${redactUrl(opts.url)} (schema ${schema})`;
  const client = postgres(opts.url, {
    max: 8,
    connect_timeout: 5,
    onnotice: () => {},
    ssl: opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : undefined,
  });
  try {
    await ensureSchema(client, schema);
    const [row] = await client`SELECT value FROM ${client(schema)}.meta WHERE key = 'revision'`;
    const store = new PgStore(client, schema, where, Number(row!.value), opts);
    await store.listen();
    return store;
  } catch (e) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new StoreError(
      isUnreachable(e) ? "Unavailable" : "Internal",
      `store: opening postgres at ${where}: ${causeText(e)}`,
    );
  }
}
