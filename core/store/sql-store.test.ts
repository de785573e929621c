import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { waitFor } from "../../test/support/env.ts";
import { databasePath } from "./database-file.ts";
import { MIGRATIONS, migrate } from "./migrations.ts";
import { createSqlStore } from "./sql-store.ts";
import { isStoreError, type StoreError } from "./store-errors.ts";
import { pod, runStoreSuite } from "./testing/store-suite.ts";

const testOnBun = "Bun" in globalThis ? test : test.skip;

const dir = mkdtempSync(join(tmpdir(), "minik-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
let lastUrl = "";

runStoreSuite("SqlStore :memory:", {
  open: (opts) => createSqlStore({ url: ":memory:", compactIntervalMs: 0, ...opts }),
});

runStoreSuite("SqlStore file", {
  open: (opts) => {
    lastUrl = `file:${join(dir, `state-${++fileNo}.db`)}`;
    return createSqlStore({ url: lastUrl, compactIntervalMs: 0, ...opts });
  },
  reopen: (opts) => createSqlStore({ url: lastUrl, compactIntervalMs: 0, ...opts }),
});

function fileUrl(): string {
  return `file:${join(dir, `sql-${++fileNo}.db`)}`;
}

async function query(url: string, sql: string) {
  const c = createClient({ url });
  try {
    return (await c.execute(sql)).rows;
  } finally {
    c.close();
  }
}

describe("SqlStore specifics", () => {
  test("errors name the object by its store key and name", async () => {
    const s = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
    try {
      const slice = {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: "web-x", namespace: "default" },
      };
      await s.create("endpointslices.discovery.k8s.io", slice);
      const e = await s.create("endpointslices.discovery.k8s.io", slice).catch((x: unknown) => x);
      expect(isStoreError(e, "AlreadyExists")).toBe(true);
      expect((e as StoreError).message).toBe('endpointslices.discovery.k8s.io "web-x" already exists');
      expect((e as StoreError).object).toEqual({ key: "endpointslices.discovery.k8s.io", name: "web-x" });
      const missing = await s.delete("pods", "default", "nope").catch((x: unknown) => x);
      expect(isStoreError(missing, "NotFound")).toBe(true);
      expect((missing as StoreError).message).toBe('pods "nope" not found');
    } finally {
      await s.close();
    }
  });

  test("file databases use WAL and record the schema version", async () => {
    const url = fileUrl();
    const s = await createSqlStore({ url, compactIntervalMs: 0 });
    await s.close();
    expect((await query(url, "PRAGMA journal_mode"))[0]!.journal_mode).toBe("wal");
    const version = await query(url, "SELECT value FROM meta WHERE key = 'schema_version'");
    expect(Number(version[0]!.value)).toBe(MIGRATIONS.at(-1)!.version);
  });

  test("a new database file is private and its directory is created", async () => {
    const path = join(dir, "new", "deeper", "state.db");
    const s = await createSqlStore({ url: `file:${path}`, compactIntervalMs: 0 });
    await s.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s", namespace: "default" },
    });
    await s.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "new")).mode & 0o777).toBe(0o700);
    expect(databasePath("file:///a/b%20c.db?mode=rwc")).toBe("/a/b c.db");
    expect(databasePath(":memory:")).toBeUndefined();
  });

  test("a database that cannot be opened says which and why", async () => {
    const path = join(dir, "not-a-db");
    writeFileSync(path, "this is not sqlite ".repeat(100));
    await expect(createSqlStore({ url: `file:${path}` })).rejects.toThrow(
      /^store: opening file:.*not-a-db: .*(not a database|file is encrypted)/,
    );
  });

  test("migrations are idempotent: a second run applies nothing and keeps the data", async () => {
    const url = fileUrl();
    const c = createClient({ url });
    try {
      expect(await migrate(c)).toEqual(MIGRATIONS.map((m) => m.version));
      await c.execute("INSERT INTO objects VALUES ('pods', 'default', 'a', 1, '{}')");
      expect(await migrate(c)).toEqual([]);
      expect((await c.execute("SELECT count(*) AS n FROM objects")).rows[0]!.n).toBe(1);
    } finally {
      c.close();
    }
    const s = await createSqlStore({ url, compactIntervalMs: 0 });
    await s.close();
  });

  test("a later migration runs once, in a transaction with its version bump", async () => {
    const url = fileUrl();
    const c = createClient({ url });
    try {
      await migrate(c);
      const next = {
        version: MIGRATIONS.at(-1)!.version + 1,
        name: "test",
        statements: ["CREATE TABLE extra (x)"],
      };
      expect(await migrate(c, [...MIGRATIONS, next])).toEqual([next.version]);
      expect(await migrate(c, [...MIGRATIONS, next])).toEqual([]);
      const broken = {
        version: next.version + 1,
        name: "broken",
        statements: ["CREATE TABLE later (y)", "NOT SQL"],
      };
      await expect(migrate(c, [...MIGRATIONS, next, broken])).rejects.toThrow(
        /migration .* \(broken\) failed/,
      );
      // Nothing of the failed migration landed.
      expect((await c.execute("SELECT name FROM sqlite_master WHERE name = 'later'")).rows.length).toBe(0);
      expect((await c.execute("SELECT value FROM meta WHERE key = 'schema_version'")).rows[0]!.value).toBe(
        String(next.version),
      );
    } finally {
      c.close();
    }
  });

  test("a version-1 database with data is migrated and served as before", async () => {
    const url = fileUrl();
    const c = createClient({ url });
    await migrate(c, MIGRATIONS.slice(0, 1));
    const json = (rv: number) =>
      JSON.stringify({
        ...pod("a"),
        metadata: { name: "a", namespace: "default", resourceVersion: String(rv) },
      });
    await c.batch(
      [
        { sql: "INSERT INTO changes VALUES (1, 'pods', 'default', 'a', 'ADDED', ?)", args: [json(1)] },
        { sql: "INSERT INTO changes VALUES (2, 'pods', 'default', 'a', 'MODIFIED', ?)", args: [json(2)] },
        { sql: "INSERT INTO objects VALUES ('pods', 'default', 'a', 2, ?)", args: [json(2)] },
        "UPDATE meta SET value = '2' WHERE key = 'revision'",
      ],
      "write",
    );
    c.close();
    const s = await createSqlStore({ url, compactIntervalMs: 0 });
    try {
      expect((await s.get("pods", "default", "a"))!.metadata.resourceVersion).toBe("2");
      expect(await s.currentResourceVersion()).toBe("2");
      const events: string[] = [];
      await s.watch({ sinceResourceVersion: "1" }, (e) =>
        events.push(`${e.type} ${e.object.metadata.resourceVersion}`),
      );
      const b = await s.create("pods", pod("b"));
      expect(b.metadata.resourceVersion).toBe("3");
      expect(events).toEqual(["MODIFIED 2", "ADDED 3"]);
      await expect(s.create("pods", pod("a"))).rejects.toThrow(/already exists/);
    } finally {
      await s.close();
    }
  });

  test("a database from a newer minik is refused with a clear message", async () => {
    const url = fileUrl();
    const c = createClient({ url });
    await migrate(c);
    await c.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    c.close();
    await expect(createSqlStore({ url })).rejects.toThrow(/schema version 999 is newer/);
  });

  test("a write that fails inside the database lands nowhere: not in the table, the log, reads or watches", async () => {
    const url = fileUrl();
    await (await createSqlStore({ url, compactIntervalMs: 0 })).close();
    // A trigger that fails the change-log insert of one object, after the objects row was
    // already written in the same transaction.
    await query(
      url,
      `CREATE TRIGGER boom BEFORE INSERT ON changes WHEN NEW.name = 'boom'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    const s = await createSqlStore({ url, compactIntervalMs: 0 });
    try {
      const a = await s.create("pods", pod("a"));
      const events: string[] = [];
      await s.watch({}, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
      await expect(s.create("pods", pod("boom"))).rejects.toThrow(/injected failure/);
      await expect(s.update("pods", { ...a, metadata: { ...a.metadata, name: "boom" } })).rejects.toThrow();
      expect(await s.get("pods", "default", "boom")).toBeUndefined();
      expect(await query(url, "SELECT name FROM objects WHERE name = 'boom'")).toEqual([]);
      expect(await s.currentResourceVersion()).toBe(a.metadata.resourceVersion!);
      const b = await s.create("pods", pod("b"));
      expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
      expect(events).toEqual(["ADDED b"]);
    } finally {
      await s.close();
    }
  });

  test("a second process writing the same file is detected, not silently diverged from", async () => {
    const url = fileUrl();
    const s = await createSqlStore({ url, compactIntervalMs: 0 });
    const a = await s.create("pods", pod("a"));
    await s.update("pods", a);
    const other = await createSqlStore({ url, compactIntervalMs: 0 });
    try {
      await other.create("pods", pod("b")); // a second minik on the same file
      await expect(s.create("pods", pod("c"))).rejects.toThrow(/changed by another process; only one minik/);
      expect(await s.get("pods", "default", "c")).toBeUndefined();
    } finally {
      await other.close();
      await s.close();
    }
  });

  // it runs a writer script with `bun FILE` (process.execPath, import.meta.dir): skipped under Deno (scripts/deno-test)
  testOnBun("a writer killed with SIGKILL mid-stream leaves a consistent database", async () => {
    const path = join(dir, `killed-${++fileNo}.db`);
    const script = join(dir, "writer.ts");
    writeFileSync(
      script,
      `import { createSqlStore } from ${JSON.stringify(join(import.meta.dir, "sql-store.ts"))};
       const s = await createSqlStore({ url: "file:${path}", changeLogLimit: 200, compactIntervalMs: 5 });
       for (let i = 0; ; i++) {
         const name = "p" + (i % 50);
         const cur = await s.get("pods", "default", name);
         if (!cur) await s.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, data: "x".repeat(3000) });
         else if (i % 7 === 0) await s.delete("pods", "default", name);
         else await s.update("pods", { ...cur, spec: { i } });
         if (i === 300) console.log("going");
       }`,
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    await waitFor(() => out.includes("going"), { what: "the writer to get going", timeoutMs: 10_000 });
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));

    const s = await createSqlStore({ url: `file:${path}`, changeLogLimit: 200, compactIntervalMs: 0 });
    try {
      const revision = Number(await s.currentResourceVersion());
      const log = await query(
        `file:${path}`,
        "SELECT revision, resource, namespace, name, type, object FROM changes ORDER BY revision",
      );
      const compacted = Number(
        (await query(`file:${path}`, "SELECT value FROM meta WHERE key = 'compacted'"))[0]!.value,
      );
      // The log is contiguous from the compaction mark to the newest revision.
      expect(log.map((r) => Number(r.revision))).toEqual(
        Array.from({ length: revision - compacted }, (_, k) => compacted + 1 + k),
      );
      // Every object is exactly what the newest log entry for its name says.
      const newest = new Map<string, { type: string; object: string }>();
      for (const r of log) newest.set(String(r.name), { type: String(r.type), object: String(r.object) });
      const listed = (await s.list("pods")).items;
      for (const [name, last] of newest) {
        const obj = listed.find((o) => o.metadata.name === name);
        if (last.type === "DELETED") expect(obj).toBeUndefined();
        else expect(obj).toEqual(JSON.parse(last.object));
      }
      const next = await s.create("pods", pod("after-crash"));
      expect(Number(next.metadata.resourceVersion)).toBe(revision + 1);
    } finally {
      await s.close();
    }
  });

  test("compaction bounds the change log table and the file size", async () => {
    const url = fileUrl();
    const s = await createSqlStore({ url, changeLogLimit: 50, compactIntervalMs: 0 });
    const big = "x".repeat(2000);
    let p = await s.create("pods", pod("a", "default", { data: big }));
    const sizes: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) p = await s.update("pods", p);
      await s.compact();
      const n = await query(url, "SELECT count(*) AS n FROM changes");
      expect(Number(n[0]!.n)).toBe(50);
      sizes.push(statSync(url.slice("file:".length)).size);
    }
    await s.close();
    // Freed pages are reused: after the first round the file stops growing.
    expect(sizes[2]!).toBeLessThanOrEqual(sizes[0]! * 1.2);
  });

  test("the compaction timer trims the log without being asked", async () => {
    const s = await createSqlStore({ url: ":memory:", changeLogLimit: 5, compactIntervalMs: 20 });
    try {
      for (let i = 0; i < 30; i++) await s.create("pods", pod(`p${i}`));
      await waitFor(() => s.compactedRevision === 25, { what: "timer compaction", timeoutMs: 3000 });
      await expect(s.watch({ sinceResourceVersion: "24" }, () => {})).rejects.toThrow(
        /too old resource version: 24 \(25\)/,
      );
    } finally {
      await s.close();
    }
  });

  test("the log is trimmed in the background once it passes its bound", async () => {
    const url = fileUrl();
    const s = await createSqlStore({ url, changeLogLimit: 20, compactIntervalMs: 0 });
    for (let i = 0; i < 700; i++) await s.create("pods", pod(`p${i}`));
    await s.compact(); // waits for any background run, then finishes the job
    expect(Number((await query(url, "SELECT count(*) AS n FROM changes"))[0]!.n)).toBe(20);
    expect(s.compactedRevision).toBe(680);
    await s.close();
  });
});
