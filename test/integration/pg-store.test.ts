import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPgStore } from "../../core/store/pg-store.ts";
import type { Store } from "../../core/store/store.ts";
import { isStoreError } from "../../core/store/store-errors.ts";
import { pod, runStoreSuite } from "../../core/store/testing/store-suite.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import { type PostgresServer, postgresBin, startPostgres } from "../support/postgres-server.ts";

const skip = skipUnless(!!postgresBin, "postgres store", "needs PostgreSQL (apt-get install postgresql)");

/**
 * The store conformance suite on a real PostgreSQL server: every store gets a fresh schema, so the
 * suite's stores never see each other's objects.
 */
describe.skipIf(skip)("PgStore", () => {
  let server: PostgresServer;
  let lastSchema = "";
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });
  const fresh = () => `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;

  runStoreSuite("PgStore", {
    open: async (opts) => {
      lastSchema = fresh();
      return createPgStore({ url: server.url, schema: lastSchema, compactIntervalMs: 0, ...opts });
    },
    reopen: (opts) => createPgStore({ url: server.url, schema: lastSchema, compactIntervalMs: 0, ...opts }),
  });

  test("two stores on one database (two API servers) see each other's writes and watches", async () => {
    const schema = fresh();
    const a: Store = await createPgStore({ url: server.url, schema, compactIntervalMs: 0 });
    const b: Store = await createPgStore({ url: server.url, schema, compactIntervalMs: 0 });
    try {
      const seen: string[] = [];
      await b.watch({ resource: "pods" }, (e) => seen.push(`${e.type} ${e.object.metadata.name}`));
      const created = await a.create("pods", pod("web"));
      // read-your-writes across servers: no replication lag, the database is the one copy
      expect((await b.get("pods", "default", "web"))?.metadata.resourceVersion).toBe(
        created.metadata.resourceVersion,
      );
      await a.update("pods", { ...created, spec: { n: 1 } });
      await expect(b.update("pods", { ...created, spec: { n: 2 } })).rejects.toMatchObject({
        code: "Conflict",
      });
      await waitFor(() => seen.length === 2, { what: "b's watch of a's writes" });
      expect(seen).toEqual(["ADDED web", "MODIFIED web"]);
      // A resourceVersion read through a, watched through b: b catches up instead of "too new".
      const c = await a.create("pods", pod("c"));
      const fromB: string[] = [];
      await b.watch({ resource: "pods", sinceResourceVersion: created.metadata.resourceVersion }, (e) =>
        fromB.push(`${e.type} ${e.object.metadata.name}`),
      );
      await waitFor(() => fromB.length === 2, { what: "b's replay" });
      expect(fromB).toEqual(["MODIFIED web", "ADDED c"]);
      expect(await b.currentResourceVersion()).toBe(c.metadata.resourceVersion!);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("interleaved writers on two servers: one gap-free revision sequence, every watcher sees all", async () => {
    const schema = fresh();
    const a = await createPgStore({ url: server.url, schema, compactIntervalMs: 0 });
    const b = await createPgStore({ url: server.url, schema, compactIntervalMs: 0 });
    try {
      const onA: number[] = [];
      const onB: number[] = [];
      await a.watch({}, (e) => onA.push(Number(e.object.metadata.resourceVersion)));
      await b.watch({}, (e) => onB.push(Number(e.object.metadata.resourceVersion)));
      const start = Number(await a.currentResourceVersion());
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).create("pods", pod(`p${i}`))));
      const want = Array.from({ length: 40 }, (_, k) => start + 1 + k);
      await waitFor(() => onA.length === 40 && onB.length === 40, { what: "40 events on each server" });
      expect(onA).toEqual(want);
      expect(onB).toEqual(want);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("servers starting together, while another writes, share one schema without deadlock", async () => {
    const schema = fresh();
    const [a, b] = await Promise.all([
      createPgStore({ url: server.url, schema, compactIntervalMs: 0 }),
      createPgStore({ url: server.url, schema, compactIntervalMs: 0 }),
    ]);
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) await a.create("pods", pod(`w${i}`));
    })();
    try {
      const more = await Promise.all(
        [1, 2, 3].map(() => createPgStore({ url: server.url, schema, compactIntervalMs: 0 })),
      );
      for (const s of more) await s.close();
      await b.create("pods", pod("from-b"));
    } finally {
      writing = false;
      await writes;
      await a.close();
      await b.close();
    }
  });

  test("the database down: 503-worded Unavailable, no local divergence, back without a restart", async () => {
    const schema = fresh();
    const s = await createPgStore({ url: server.url, schema, compactIntervalMs: 0, pollIntervalMs: 200 });
    try {
      const seen: string[] = [];
      await s.watch({ resource: "pods" }, (e) => seen.push(e.object.metadata.name!));
      await s.create("pods", pod("before"));
      await server.kill();
      const e = await s.create("pods", pod("during")).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isStoreError(e, "Unavailable")).toBe(true);
      expect((e as Error).message).toContain("127.0.0.1");
      await server.start();
      await waitFor(
        async () =>
          s.create("pods", pod("after")).then(
            () => true,
            () => false,
          ),
        { what: "a write once postgres is back", timeoutMs: 20_000 },
      );
      expect((await s.list("pods")).items.map((p) => p.metadata.name)).toEqual(["after", "before"]);
      await waitFor(() => seen.length === 2, {
        what: "the watch going on after the outage",
        timeoutMs: 10_000,
      });
      expect(seen).toEqual(["before", "after"]);
    } finally {
      await s.close();
    }
  }, 60_000);

  test("an unreachable database at start names the endpoint, without the password", async () => {
    const e = await createPgStore({ url: "postgres://minik:secret@127.0.0.1:1/x" }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isStoreError(e, "Unavailable")).toBe(true);
    expect((e as Error).message).toContain("postgres at postgres://minik:***@127.0.0.1:1/x");
    expect((e as Error).message).not.toContain("secret");
  });
});
