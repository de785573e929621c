import { type Client, createClient } from "@libsql/client";
import { and, asc, eq, gt, lte, sql } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import type { KubeObject, WatchEventType } from "../object.ts";
import { ChangeLogSizes, DEFAULT_CHANGE_LOG_BYTES, readChangeLogSizes } from "./change-log-sizes.ts";
import { databasePath, prepareDatabaseFile } from "./database-file.ts";
import { pageBounds } from "./list-page.ts";
import { type ListSnapshot, ListSnapshots } from "./list-snapshots.ts";
import { migrate } from "./migrations.ts";
import { createMutex } from "./mutex.ts";
import type { ObjectCache } from "./object-cache.ts";
import { changes, meta, objects } from "./schema.ts";
import type { ListAt, Listed, Store, StoredList } from "./store.ts";
import {
  checkPreconditions,
  errorText,
  identify,
  parseRevision,
  StoreError,
  storeErrors,
} from "./store-errors.ts";
import { readState, type StoredState } from "./stored-state.ts";
import { type Change, matches, type StoreEvent, type WatchFilter, WatchHub } from "./watch-hub.ts";

export interface SqlStoreOptions {
  /** `file:/path/state.db`, `:memory:`, or a `libsql://` URL. */
  url: string;
  /** Newest change-log entries kept for watch resume (default 10,000). */
  changeLogLimit?: number;
  /** Bytes of object JSON the change log may hold (default 64 MiB); older entries go first. */
  changeLogBytes?: number;
  /** How often the change log is trimmed in the background (default 30 s; 0 = never). */
  compactIntervalMs?: number;
  /** How long a write waits for another process's lock on the file (default 5 s). */
  busyTimeoutMs?: number;
}

/** Change-log rows read per lock hold during a watch replay. */
const REPLAY_CHUNK = 256;

/** Rows deleted per compaction transaction: small, so writers never wait long behind it. */
const COMPACT_BATCH = 500;

type Db = LibSQLDatabase<Record<string, never>>;
type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** The JSON of `obj` with its resourceVersion set to `revision`; the caller's object is untouched. */
function stamp(obj: KubeObject, revision: number): string {
  return JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
}

/** Numbers that may repeat, with their minimum: few entries, so a map and a scan suffice. */
class Multiset {
  #counts = new Map<number, number>();
  add(n: number): void {
    this.#counts.set(n, (this.#counts.get(n) ?? 0) + 1);
  }
  delete(n: number): void {
    const c = (this.#counts.get(n) ?? 0) - 1;
    if (c > 0) this.#counts.set(n, c);
    else this.#counts.delete(n);
  }
  min(): number | undefined {
    let m: number | undefined;
    for (const n of this.#counts.keys()) if (m === undefined || n < m) m = n;
    return m;
  }
}

interface Written {
  type: WatchEventType;
  json: string;
  /** MODIFIED: the object as it was. */
  prev?: string;
}

/**
 * The Store over SQLite/libsql via drizzle: an `objects` table of current state plus a bounded
 * `changes` log, both written in one transaction per write. Writes go through one lock, so the
 * global revision (kept in memory, recovered from the log at start-up) is handed out in commit order; the
 * database still enforces optimistic concurrency (`UPDATE … WHERE revision = ?`).
 *
 * This process must be the only writer of the database: reads are served from an in-memory copy
 * of the current objects (see object-cache.ts), and the revision counter lives in memory.
 */
export class SqlStore implements Store {
  readonly #client: Client;
  readonly #db: Db;
  readonly #lock = createMutex();
  readonly #hub = new WatchHub();
  readonly #cache: ObjectCache;
  readonly #limit: number;
  readonly #byteLimit: number;
  readonly #sizes: ChangeLogSizes;
  #revision: number;
  #compacted: number;
  #compacting: Promise<number> | undefined;
  /** Revisions that running replays still read from; compaction stays below the lowest. */
  readonly #pins = new Multiset();
  readonly #snapshots = new ListSnapshots();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #url: string;
  readonly #isFile: boolean;
  /** data_version as of opening; only another connection's commit changes it. */
  readonly #dataVersion: number;

  constructor(client: Client, state: StoredState, opts: SqlStoreOptions, sizes = new ChangeLogSizes()) {
    this.#client = client;
    this.#url = opts.url;
    this.#isFile = opts.url.startsWith("file:");
    this.#dataVersion = state.dataVersion;
    this.#cache = state.cache;
    this.#db = drizzle(client);
    this.#revision = state.revision;
    this.#compacted = state.compacted;
    this.#limit = Math.max(1, opts.changeLogLimit ?? 10_000);
    this.#byteLimit = Math.max(1, opts.changeLogBytes ?? DEFAULT_CHANGE_LOG_BYTES);
    this.#sizes = sizes;
    const every = opts.compactIntervalMs ?? 30_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.#compactQuietly(), every);
      // Never keep the process alive just to compact.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  async create(resource: string, obj: KubeObject): Promise<KubeObject> {
    const { namespace, name } = identify(resource, obj);
    return this.#commit(resource, namespace, name, async (tx, revision) => {
      if (this.#cache.get(resource, namespace, name)) throw storeErrors(resource, name).alreadyExists();
      const json = stamp(obj, revision);
      const res = await tx
        .insert(objects)
        .values({ resource, namespace, name, revision, object: json })
        .onConflictDoNothing();
      if (res.rowsAffected !== 1) throw storeErrors(resource, name).alreadyExists();
      return { type: "ADDED", json };
    });
  }

  async get(resource: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    this.#checkOpen();
    const cached = this.#cache.get(resource, namespace, name);
    return cached && JSON.parse(cached.json);
  }

  async list(resource: string, namespace?: string, at: ListAt = {}): Promise<Listed> {
    this.#checkOpen();
    const json = at.resourceVersion
      ? await this.#listAt(resource, namespace, parseRevision(`a list of ${resource}`, at.resourceVersion))
      : this.#listNow(resource, namespace);
    if (at.keep) this.#snapshots.keep(resource, namespace, json);
    const resourceVersion = String(json.revision);
    if (!at.after && !at.limit)
      return { items: json.items.map((j) => JSON.parse(j) as KubeObject), resourceVersion };
    // A page: only its own items are parsed (and O(log n) keys to find where it starts).
    const keyAt = (i: number) => {
      const m = (JSON.parse(json.items[i]!) as KubeObject).metadata;
      return { namespace: m.namespace ?? "", name: m.name ?? "" };
    };
    const { from, to } = pageBounds(json.items.length, keyAt, at.after, at.limit);
    const items = json.items.slice(from, to).map((j) => JSON.parse(j) as KubeObject);
    return { items, resourceVersion, remaining: json.items.length - to };
  }

  listJson(resource: string, namespace?: string): StoredList {
    this.#checkOpen();
    const now = this.#listNow(resource, namespace);
    return { items: now.items, resourceVersion: String(now.revision) };
  }

  #listNow(resource: string, namespace: string | undefined): ListSnapshot {
    // Synchronous: the items are exactly the state at this revision.
    return { revision: this.#revision, items: this.#cache.list(resource, namespace) };
  }

  /**
   * The state at an earlier revision: a kept snapshot, or the current state when nothing of this
   * resource (in this namespace) changed since. The change log holds new values only, so any
   * other past state is beyond reach: Expired, and the client lists again.
   */
  async #listAt(resource: string, namespace: string | undefined, revision: number): Promise<ListSnapshot> {
    if (revision < this.#compacted)
      throw new StoreError("Expired", `too old resource version: ${revision} (${this.#compacted})`);
    if (revision > this.#revision)
      throw new StoreError("Expired", `too new resource version: ${revision} (newest is ${this.#revision})`);
    const kept = this.#snapshots.find(resource, namespace, revision);
    if (kept) return kept;
    if (this.#revision === revision) return this.#listNow(resource, namespace);
    const scope = and(eq(changes.resource, resource), gt(changes.revision, revision));
    // Under the write lock: no write can come between the check and the read.
    const unchanged = await this.#lock.run(async () => {
      const changed = await this.#db
        .select({ revision: changes.revision })
        .from(changes)
        .where(namespace === undefined ? scope : and(scope, eq(changes.namespace, namespace)))
        .limit(1);
      return changed.length === 0 ? this.#cache.list(resource, namespace) : undefined;
    });
    if (unchanged) return { revision, items: unchanged };
    throw new StoreError(
      "Expired",
      `the state at resource version ${revision} is no longer held for ${resource}: list again`,
    );
  }

  async update(resource: string, obj: KubeObject): Promise<KubeObject> {
    const { namespace, name } = identify(resource, obj);
    const rv = obj.metadata.resourceVersion;
    const expected = rv ? parseRevision(`${resource} "${name}"`, rv) : undefined;
    return this.#commit(resource, namespace, name, async (tx, revision) => {
      const err = storeErrors(resource, name);
      const current = this.#cache.get(resource, namespace, name);
      if (!current) throw err.notFound();
      if (expected !== undefined && expected !== current.revision) throw err.conflict();
      const json = stamp(obj, revision);
      // The database has the last word: the row must still be at the revision we checked.
      const res = await tx
        .update(objects)
        .set({ revision, object: json })
        .where(and(this.#pk(resource, namespace, name), eq(objects.revision, current.revision)));
      if (res.rowsAffected !== 1) throw err.conflict();
      return { type: "MODIFIED", json, prev: current.json };
    });
  }

  async delete(
    resource: string,
    namespace: string,
    name: string,
    preconditions?: { resourceVersion?: string; uid?: string },
  ): Promise<KubeObject> {
    return this.#commit(resource, namespace, name, async (tx, revision) => {
      const err = storeErrors(resource, name);
      const current = this.#cache.get(resource, namespace, name);
      if (!current) throw err.notFound();
      const obj = JSON.parse(current.json) as KubeObject;
      checkPreconditions(err, preconditions, obj, current.revision);
      const res = await tx
        .delete(objects)
        .where(and(this.#pk(resource, namespace, name), eq(objects.revision, current.revision)));
      if (res.rowsAffected !== 1) throw err.conflict();
      return { type: "DELETED", json: stamp(obj, revision) };
    });
  }

  async watch(
    filter: { resource?: string; namespace?: string; sinceResourceVersion?: string },
    onEvent: (event: StoreEvent) => void,
  ): Promise<() => void> {
    this.#checkOpen();
    const { resource, namespace } = filter;
    const since = filter.sinceResourceVersion;
    const after =
      since === undefined || since === ""
        ? undefined
        : parseRevision(`a watch of ${resource ?? "all resources"}`, since);
    if (after !== undefined && after < this.#compacted) {
      throw new StoreError("Expired", `too old resource version: ${after} (${this.#compacted})`);
    }
    // Synchronous with reading the revision: every change up to `upTo` is in the log, every later
    // one will be published to this subscriber.
    const upTo = this.#revision;
    if (after !== undefined && after > upTo) {
      // Only a store that was reset under the client hands out such a number; waiting for the
      // revision to catch up would silently skip every change until then. Make it list again.
      throw new StoreError(
        "Expired",
        `too new resource version: ${after} (newest is ${upTo}); the store was reset, list again`,
      );
    }
    const from = after ?? upTo;
    const sub = this.#hub.subscribe({ resource, namespace }, onEvent, from, from < upTo);
    if (from < upTo) {
      this.#pins.add(from); // compaction must leave (from, upTo] alone while we read it
      try {
        await this.#replay({ resource, namespace }, from, upTo, sub);
      } catch (e) {
        sub.stop();
        throw e;
      } finally {
        this.#pins.delete(from);
      }
      sub.goLive();
    }
    return sub.stop;
  }

  /**
   * Reads the log (after, upTo] in chunks, each under the lock for a few milliseconds, so writers
   * keep going during a long replay; their changes are held by the hub meanwhile.
   */
  async #replay(
    filter: WatchFilter,
    after: number,
    upTo: number,
    sub: { deliver(c: Iterable<Change>): void; readonly stopped: boolean },
  ): Promise<void> {
    let from = after;
    while (from < upTo && !sub.stopped) {
      this.#checkOpen();
      const range = and(gt(changes.revision, from), lte(changes.revision, upTo));
      const rows = await this.#lock.run(() =>
        this.#db
          .select()
          .from(changes)
          .where(filter.resource === undefined ? range : and(eq(changes.resource, filter.resource), range))
          .orderBy(asc(changes.revision))
          .limit(REPLAY_CHUNK),
      );
      sub.deliver(
        rows
          .filter((r) => matches(filter, r))
          .map((r) => ({
            revision: r.revision,
            resource: r.resource,
            namespace: r.namespace,
            type: r.type,
            json: r.object,
            prev: r.prev ?? undefined,
          })),
      );
      if (rows.length < REPLAY_CHUNK) return;
      from = rows.at(-1)!.revision;
    }
  }

  async currentResourceVersion(): Promise<string> {
    return String(this.#revision);
  }

  /** Trims the change log to its newest `changeLogLimit` revisions, in small transactions. */
  async compact(): Promise<number> {
    this.#compacting ??= this.#compactBatches().finally(() => {
      this.#compacting = undefined;
    });
    return this.#compacting;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#compacting?.catch(() => 0);
    await this.#lock.run(() => this.#client.close());
    this.#hub.clear();
    this.#snapshots.clear();
  }

  /** The revision below which watches get 410 Expired. */
  get compactedRevision(): number {
    return this.#compacted;
  }

  async #compactBatches(): Promise<number> {
    let removed = 0;
    for (;;) {
      if (this.#closed) return removed;
      const n = await this.#lock.run(async () => {
        const byCount = this.#revision - this.#limit;
        const bySize = this.#sizes.trimTarget(this.#byteLimit) ?? byCount;
        const target = Math.min(Math.max(byCount, bySize), this.#pins.min() ?? Number.POSITIVE_INFINITY);
        if (target <= this.#compacted) return 0;
        const upTo = Math.min(target, this.#compacted + COMPACT_BATCH);
        // Raise the mark before deleting: a watch starting meanwhile must already get Expired.
        // Should the delete fail, the mark is merely too cautious.
        this.#compacted = upTo;
        this.#sizes.forgetUpTo(upTo);
        const res = await this.#db.transaction(async (tx) => {
          const del = await tx.delete(changes).where(lte(changes.revision, upTo));
          await tx
            .update(meta)
            .set({ value: String(upTo) })
            .where(eq(meta.key, "compacted"));
          return del;
        });
        // Revisions advanced but nothing deleted still counts as progress (-1 keeps the loop going).
        return res.rowsAffected || -1;
      });
      if (n === 0) return removed;
      if (n > 0) removed += n;
    }
  }

  async #compactQuietly(): Promise<void> {
    try {
      await this.compact();
    } catch (e) {
      console.error("store: compacting the change log failed:", e);
    }
  }

  /**
   * Runs one write: `body` changes `objects`, then the change-log row and the revision are written
   * in the same transaction; after commit the watchers hear of it, still in revision order.
   */
  async #commit(
    resource: string,
    namespace: string,
    name: string,
    body: (tx: Tx, revision: number) => Promise<Written>,
  ): Promise<KubeObject> {
    this.#checkOpen();
    const written = await this.#lock.run(async () => {
      const revision = this.#revision + 1;
      const w = await this.#db
        .transaction(async (tx) => {
          await this.#checkSoleWriter(tx);
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
          return w;
        })
        .catch((e: unknown) => {
          if (e instanceof StoreError) throw e;
          const where = `${resource} ${namespace ? `${namespace}/` : ""}${name}`;
          throw new StoreError(
            "Internal",
            `store: writing ${where} failed, nothing was changed: ${errorText(e)}`,
          );
        });
      if (w.type === "DELETED") this.#cache.delete(resource, namespace, name);
      else this.#cache.set(resource, namespace, name, { revision, json: w.json });
      this.#revision = revision;
      this.#sizes.add(revision, w.json.length + (w.prev?.length ?? 0));
      this.#hub.publish({ revision, resource, namespace, type: w.type, json: w.json, prev: w.prev });
      return w;
    });
    if (
      this.#revision - this.#compacted >= this.#limit + COMPACT_BATCH ||
      this.#sizes.bytes > this.#byteLimit * 1.125
    )
      void this.#compactQuietly();
    return JSON.parse(written.json);
  }

  /**
   * The in-memory revision and objects are only right while no one else writes the file (a
   * second minik on the same data dir). SQLite's data_version moves when another connection
   * commits; checked inside the write transaction, nothing can slip in after the check.
   */
  async #checkSoleWriter(tx: Tx): Promise<void> {
    if (!this.#isFile) return;
    const row = await tx.get<{ data_version: number }>(sql`PRAGMA data_version`);
    if (Number(row.data_version) !== this.#dataVersion) {
      throw new StoreError(
        "Internal",
        `store: ${this.#url} was changed by another process; only one minik may use a data directory: stop the other one, then restart this one`,
      );
    }
  }

  #pk(resource: string, namespace: string, name: string) {
    return and(eq(objects.resource, resource), eq(objects.namespace, namespace), eq(objects.name, name));
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError("Closed", "the store is closed; restart minik");
  }
}

/** Opens (and migrates) the database at `opts.url` and returns a Store over it. */
export async function createSqlStore(opts: SqlStoreOptions): Promise<SqlStore> {
  const path = databasePath(opts.url);
  let client: Client | undefined;
  try {
    if (path !== undefined) prepareDatabaseFile(path);
    client = createClient({
      url: opts.url,
      timeout: opts.busyTimeoutMs ?? 5_000,
      // One connection: every statement runs under the store's lock anyway, and per-connection
      // pragmas then hold for all of them.
      concurrency: 1,
    });
    if (path !== undefined) {
      await client.execute("PRAGMA journal_mode = WAL");
      // WAL + NORMAL: a commit survives a process crash; only a power loss may drop the last ones.
      await client.execute("PRAGMA synchronous = NORMAL");
      await client.execute(`PRAGMA busy_timeout = ${opts.busyTimeoutMs ?? 5_000}`);
      // Let the WAL file shrink back after checkpoints instead of staying at its peak size.
      await client.execute("PRAGMA journal_size_limit = 67108864");
    }
    await migrate(client);
    return new SqlStore(client, await readState(client), opts, await readChangeLogSizes(client));
  } catch (e) {
    client?.close();
    throw new Error(`store: opening ${opts.url}: ${errorText(e)}`);
  }
}
