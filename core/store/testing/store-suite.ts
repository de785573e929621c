/**
 * The behaviour every Store must show, as one suite any implementation runs from its own test
 * file: `runStoreSuite("SqlStore :memory:", factory)`. Test-only module (imports bun:test); no
 * production code imports it.
 */
import { describe, expect, test } from "bun:test";
import { waitFor } from "../../../test/support/env.ts";
import type { KubeObject } from "../../object.ts";
import type { Store } from "../store.ts";
import { isStoreError, type StoreErrorCode } from "../store-errors.ts";

/** What a watch delivers; from the Store interface alone, so any implementation fits. */
type StoreEvent = Parameters<Parameters<Store["watch"]>[1]>[0];

export interface StoreFactory {
  /** A fresh, empty store. */
  open(opts?: { changeLogLimit?: number }): Promise<Store>;
  /** Opens the data of the most recently opened store again (after it was closed); persistent stores only. */
  reopen?: (opts?: { changeLogLimit?: number }) => Promise<Store>;
}

export function pod(name: string, namespace = "default", extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: { n: 0 },
    ...extra,
  };
}

function deployment(name: string, namespace = "default"): KubeObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace }, spec: { replicas: 1 } };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject, it resolved");
}

async function expectStoreError(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  const e = await rejection(p);
  expect(isStoreError(e)).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

function rv(o: KubeObject): number {
  return Number(o.metadata.resourceVersion);
}

/** Collects a watch's events; `stop` ends it. */
async function collect(store: Store, filter: Parameters<Store["watch"]>[0]) {
  const events: StoreEvent[] = [];
  const stop = await store.watch(filter, (e) => events.push(e));
  return { events, stop };
}

function summary(events: StoreEvent[]): string[] {
  return events.map(
    (e) =>
      `${e.type} ${e.resource} ${e.object.metadata.namespace}/${e.object.metadata.name} ${e.object.metadata.resourceVersion}`,
  );
}

export function runStoreSuite(name: string, factory: StoreFactory): void {
  async function withStore(fn: (s: Store) => Promise<void>, opts?: { changeLogLimit?: number }) {
    const s = await factory.open(opts);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  describe(`${name}: objects`, () => {
    test("create sets a decimal resourceVersion and get returns the same object", () =>
      withStore(async (s) => {
        const input = pod("a");
        const created = await s.create("pods", input);
        expect(created.metadata.resourceVersion).toMatch(/^[1-9]\d*$/);
        expect(input.metadata.resourceVersion).toBeUndefined(); // the caller's object is not touched
        expect(created.spec).toEqual({ n: 0 });
        const got = await s.get("pods", "default", "a");
        expect(got).toEqual(created);
        expect(await s.get("pods", "default", "missing")).toBeUndefined();
        expect(await s.get("pods", "other", "a")).toBeUndefined();
        expect(await s.get("services", "default", "a")).toBeUndefined();
      }));

    test("returned objects are fresh copies", () =>
      withStore(async (s) => {
        const created = await s.create("pods", pod("a"));
        (created.spec as { n: number }).n = 99;
        const got = (await s.get("pods", "default", "a"))!;
        expect(got.spec).toEqual({ n: 0 });
        (got.spec as { n: number }).n = 98;
        got.metadata.name = "mutated";
        const listed = (await s.list("pods")).items[0]!;
        expect(listed.spec).toEqual({ n: 0 });
        expect(listed.metadata.name).toBe("a");
      }));

    test("create of an existing name is AlreadyExists; other namespaces and resources are separate", () =>
      withStore(async (s) => {
        await s.create("pods", pod("a"));
        const before = await s.currentResourceVersion();
        await expectStoreError(s.create("pods", pod("a")), "AlreadyExists");
        expect(await s.currentResourceVersion()).toBe(before); // a failed write uses no revision
        await s.create("pods", pod("a", "other"));
        await s.create("services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "a", namespace: "default" },
        });
        const e = await rejection(
          s
            .create("deployments.apps", deployment("d"))
            .then(() => s.create("deployments.apps", deployment("d"))),
        );
        expect(String((e as Error).message)).toBe('deployments.apps "d" already exists');
      }));

    test("list by namespace and across all, sorted by namespace then name, at the current revision", () =>
      withStore(async (s) => {
        for (const [n, ns] of [
          ["b", "x"],
          ["a", "y"],
          ["c", "x"],
          ["a", "x"],
        ] as const)
          await s.create("pods", pod(n, ns));
        await s.create("deployments.apps", deployment("a", "x"));
        const all = await s.list("pods");
        expect(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
          "x/a",
          "x/b",
          "x/c",
          "y/a",
        ]);
        expect(all.resourceVersion).toBe(await s.currentResourceVersion());
        const x = await s.list("pods", "x");
        expect(x.items.map((o) => o.metadata.name)).toEqual(["a", "b", "c"]);
        expect((await s.list("pods", "none")).items).toEqual([]);
        expect((await s.list("deployments.apps")).items.length).toBe(1);
        const cluster = await s.create("namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "x" },
        });
        expect(await s.get("namespaces", "", "x")).toEqual(cluster);
        expect((await s.list("namespaces", "")).items.length).toBe(1);
      }));

    test("a list kept for paging is read again at its revision, whatever changed since", () =>
      withStore(async (s) => {
        for (const n of ["a", "b", "c"]) await s.create("pods", pod(n));
        await s.create("pods", pod("z", "other"));
        const first = await s.list("pods", "default", { keep: true });
        const b = (await s.get("pods", "default", "b"))!;
        await s.update("pods", { ...b, spec: { n: 7 } });
        await s.delete("pods", "default", "c");
        await s.create("pods", pod("d"));
        const again = await s.list("pods", "default", { resourceVersion: first.resourceVersion });
        expect(again.resourceVersion).toBe(first.resourceVersion);
        expect(again.items).toEqual(first.items);
        expect(again.items.map((o) => o.spec)).toEqual([{ n: 0 }, { n: 0 }, { n: 0 }]);
        const now = await s.list("pods", "default");
        expect(now.items.map((o) => o.metadata.name)).toEqual(["a", "b", "d"]);
        // A kind nothing changed of since that revision reads the same at it.
        const ns = await s.list("namespaces", undefined, { resourceVersion: first.resourceVersion });
        expect(ns).toEqual({ items: [], resourceVersion: first.resourceVersion });
      }));

    test("a page: the items after a key, at most limit, and how many remain", () =>
      withStore(async (s) => {
        for (const [n, ns] of [
          ["b", "a"],
          ["a", "a-b"],
          ["c", "a"],
          ["a", "a"],
          ["x", "z"],
        ] as const)
          await s.create("pods", pod(n, ns));
        const names = (l: { items: KubeObject[] }) =>
          l.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
        const first = await s.list("pods", undefined, { limit: 2, keep: true });
        expect(names(first)).toEqual(["a/a", "a/b"]);
        expect(first.remaining).toBe(3);
        const next = await s.list("pods", undefined, {
          resourceVersion: first.resourceVersion,
          after: { namespace: "a", name: "b" },
          limit: 2,
        });
        expect(names(next)).toEqual(["a/c", "a-b/a"]);
        expect(next.remaining).toBe(1);
        const rest = await s.list("pods", undefined, { after: { namespace: "a-b", name: "a" } });
        expect(names(rest)).toEqual(["z/x"]);
        expect(rest.remaining).toBe(0);
        const one = await s.list("pods", "a", { after: { namespace: "a", name: "a" }, limit: 5 });
        expect(names(one)).toEqual(["a/b", "a/c"]);
      }));

    test("a list at a compacted revision is Expired, so the client lists again", () =>
      withStore(
        async (s) => {
          await s.create("pods", pod("a"));
          const first = await s.list("pods", undefined, { keep: true });
          for (let i = 0; i < 8; i++) await s.create("pods", pod(`n${i}`));
          await s.compact();
          await expectStoreError(
            s.list("pods", undefined, { resourceVersion: first.resourceVersion }),
            "Expired",
          );
          await expectStoreError(s.list("pods", undefined, { resourceVersion: "x" }), "InvalidRevision");
        },
        { changeLogLimit: 2 },
      ));

    test("list order stays right as objects come and go", () =>
      withStore(async (s) => {
        for (const n of ["m", "c", "x"]) await s.create("pods", pod(n, "b"));
        expect((await s.list("pods")).items.map((o) => o.metadata.name)).toEqual(["c", "m", "x"]);
        await s.create("pods", pod("a", "b"));
        await s.create("pods", pod("z", "a"));
        await s.delete("pods", "b", "m");
        const got = (await s.list("pods")).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
        expect(got).toEqual(["a/z", "b/a", "b/c", "b/x"]);
        await s.delete("pods", "a", "z");
        expect((await s.list("pods", "a")).items).toEqual([]);
        expect((await s.list("pods")).items.length).toBe(3);
      }));

    test("update with a matching resourceVersion replaces the object", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        const b = await s.update("pods", { ...a, spec: { n: 1 } });
        expect(rv(b)).toBeGreaterThan(rv(a));
        expect(await s.get("pods", "default", "a")).toEqual(b);
        expect(b.spec).toEqual({ n: 1 });
      }));

    test("update with a stale resourceVersion is Conflict and changes nothing", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        const b = await s.update("pods", { ...a, spec: { n: 1 } });
        const before = await s.currentResourceVersion();
        await expectStoreError(s.update("pods", { ...a, spec: { n: 2 } }), "Conflict");
        expect(await s.get("pods", "default", "a")).toEqual(b);
        expect(await s.currentResourceVersion()).toBe(before);
      }));

    test("update without a resourceVersion is unconditional; update of a missing object is NotFound", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        await s.update("pods", a);
        const { resourceVersion: _, ...meta } = a.metadata;
        const c = await s.update("pods", { ...a, metadata: meta, spec: { n: 3 } });
        expect(c.spec).toEqual({ n: 3 });
        await expectStoreError(s.update("pods", pod("ghost")), "NotFound");
        await expectStoreError(
          s.update("pods", { ...pod("ghost"), metadata: { name: "ghost", resourceVersion: "1" } }),
          "NotFound",
        );
      }));

    test("delete returns the object with a new resourceVersion and honours preconditions", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        await expectStoreError(
          s.delete("pods", "default", "a", { resourceVersion: String(rv(a) + 100) }),
          "PreconditionFailed",
        );
        await expectStoreError(
          s.delete("pods", "default", "a", { uid: "not-its-uid" }),
          "PreconditionFailed",
        );
        expect(await s.get("pods", "default", "a")).toEqual(a);
        const gone = await s.delete("pods", "default", "a", {
          resourceVersion: a.metadata.resourceVersion,
          uid: "uid-a",
        });
        expect(rv(gone)).toBeGreaterThan(rv(a));
        expect(gone.spec).toEqual(a.spec);
        expect(await s.get("pods", "default", "a")).toBeUndefined();
        await expectStoreError(s.delete("pods", "default", "a"), "NotFound");
        // The name is free again.
        await s.create("pods", pod("a"));
      }));

    test("a resourceVersion that is not a number is BadRequest", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        await expectStoreError(
          s.update("pods", { ...a, metadata: { ...a.metadata, resourceVersion: "abc" } }),
          "InvalidRevision",
        );
        await expectStoreError(
          s.watch({ sinceResourceVersion: "-1" }, () => {}),
          "InvalidRevision",
        );
      }));

    test("close lets queued writes finish, then refuses work", async () => {
      const s = await factory.open();
      const writes = Array.from({ length: 20 }, (_, i) => s.create("pods", pod(`p${i}`)));
      const closing = s.close();
      const done = await Promise.allSettled(writes);
      await closing;
      expect(done.every((r) => r.status === "fulfilled")).toBe(true);
      await expect(s.create("pods", pod("late"))).rejects.toThrow();
      await expect(s.get("pods", "default", "p0")).rejects.toThrow();
    });

    test("one revision sequence, strictly increasing across all resources", () =>
      withStore(async (s) => {
        const start = Number(await s.currentResourceVersion());
        const seen: number[] = [];
        seen.push(rv(await s.create("pods", pod("a"))));
        seen.push(rv(await s.create("deployments.apps", deployment("d"))));
        seen.push(rv(await s.update("pods", (await s.get("pods", "default", "a"))!)));
        seen.push(rv(await s.delete("deployments.apps", "default", "d")));
        seen.push(
          rv(
            await s.create("configmaps", {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "c", namespace: "default" },
            }),
          ),
        );
        expect(seen).toEqual([1, 2, 3, 4, 5].map((i) => start + i));
        expect(await s.currentResourceVersion()).toBe(String(start + 5));
      }));

    test("parallel updates from the same resourceVersion: exactly one wins, the rest Conflict", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => s.update("pods", { ...a, spec: { n: i } })),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won.length).toBe(1);
        expect(lost.every((r) => isStoreError(r.reason, "Conflict"))).toBe(true);
        expect(await s.get("pods", "default", "a")).toEqual(won[0]!.value);
      }));

    test("parallel creates of one name: exactly one wins", () =>
      withStore(async (s) => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => s.create("pods", pod("a"))),
        );
        expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
        expect(
          results.filter((r) => r.status === "rejected" && isStoreError(r.reason, "AlreadyExists")).length,
        ).toBe(9);
      }));
  });

  describe(`${name}: watch`, () => {
    test("from now: sees later writes only, in order, DELETED with its new resourceVersion", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        const w = await collect(s, { resource: "pods" });
        const b = await s.update("pods", { ...a, spec: { n: 1 } });
        const gone = await s.delete("pods", "default", "a");
        await waitFor(() => w.events.length === 2, { what: "2 events" });
        expect(w.events.map((e) => e.type)).toEqual(["MODIFIED", "DELETED"]);
        expect(w.events[0]!.object).toEqual(b);
        expect(w.events[1]!.object).toEqual(gone);
        expect(w.events[1]!.object.metadata.resourceVersion).toBe(await s.currentResourceVersion());
        w.stop();
        await s.create("pods", pod("after-stop"));
        expect(w.events.length).toBe(2);
      }));

    test("a resourceVersion newer than the store's is Expired, so the client lists again", () =>
      withStore(async (s) => {
        await s.create("pods", pod("a"));
        const now = Number(await s.currentResourceVersion());
        const w = await collect(s, { sinceResourceVersion: String(now) }); // the newest is fine
        await expectStoreError(
          s.watch({ sinceResourceVersion: String(now + 1000) }, () => {}),
          "Expired",
        );
        await s.create("pods", pod("b"));
        await waitFor(() => w.events.length === 1, { what: "event" });
      }));

    test("filtered by resource and namespace", () =>
      withStore(async (s) => {
        const byNs = await collect(s, { resource: "pods", namespace: "x" });
        const byRes = await collect(s, { resource: "deployments.apps" });
        const all = await collect(s, {});
        await s.create("pods", pod("a", "x"));
        await s.create("pods", pod("b", "y"));
        await s.create("deployments.apps", deployment("d", "x"));
        await waitFor(() => all.events.length === 3, { what: "3 events" });
        expect(summary(byNs.events)).toEqual([summary(all.events)[0]!]);
        expect(summary(byRes.events)).toEqual([summary(all.events)[2]!]);
        expect(all.events.map((e) => e.resource)).toEqual(["pods", "pods", "deployments.apps"]);
      }));

    test("resume from a resourceVersion replays newer changes only, then continues live", () =>
      withStore(async (s) => {
        const a = await s.create("pods", pod("a"));
        const mark = await s.update("pods", { ...a, spec: { n: 1 } });
        const b = await s.create("pods", pod("b"));
        const gone = await s.delete("pods", "default", "a");
        const w = await collect(s, { resource: "pods", sinceResourceVersion: mark.metadata.resourceVersion });
        const c = await s.create("pods", pod("c"));
        await waitFor(() => w.events.length >= 3, { what: "replay and live events" });
        expect(w.events.map((e) => e.object)).toEqual([b, gone, c]);
        expect(w.events.map((e) => e.type)).toEqual(["ADDED", "DELETED", "ADDED"]);
      }));

    test("MODIFIED carries the object before the change, live and replayed from a resourceVersion", () =>
      withStore(async (s) => {
        const labelled = (o: KubeObject, app: string) => ({
          ...o,
          metadata: { ...o.metadata, labels: { app } },
        });
        const a0 = await s.create("pods", labelled(pod("a"), "web"));
        const mark = await s.create("pods", pod("mark"));
        const live = await collect(s, { resource: "pods" });
        const a1 = await s.update("pods", labelled(a0, "db")); // stops matching app=web
        const a2 = await s.update("pods", labelled(a1, "web")); // matches again
        const gone = await s.delete("pods", "default", "a");
        const resumed = await collect(s, {
          resource: "pods",
          sinceResourceVersion: mark.metadata.resourceVersion,
        });
        for (const w of [live, resumed]) {
          await waitFor(() => w.events.length === 3, { what: "3 events" });
          expect(w.events.map((e) => [e.type, e.object, e.prevObject])).toEqual([
            ["MODIFIED", a1, a0],
            ["MODIFIED", a2, a1],
            ["DELETED", gone, undefined],
          ]);
        }
      }));

    test("resume while writes continue: every revision once, in order, no gap", () =>
      withStore(async (s) => {
        let last = await s.create("pods", pod("w"));
        for (let i = 0; i < 700; i++) last = await s.update("pods", { ...last, spec: { n: i } });
        const since = rv(last) - 600; // a long replay, with writes landing while it is delivered
        const writes: Promise<KubeObject>[] = [];
        for (let i = 0; i < 50; i++) writes.push(s.create("pods", pod(`before${i}`)));
        const watching = collect(s, { resource: "pods", sinceResourceVersion: String(since) });
        for (let i = 0; i < 150; i++) writes.push(s.create("pods", pod(`during${i}`)));
        const w = await watching;
        for (let i = 0; i < 50; i++) writes.push(s.create("pods", pod(`after${i}`)));
        await Promise.all(writes);
        const end = Number(await s.currentResourceVersion());
        await waitFor(() => w.events.length >= end - since, { what: "all events", timeoutMs: 3000 });
        expect(w.events.map((e) => Number(e.object.metadata.resourceVersion))).toEqual(
          Array.from({ length: end - since }, (_, i) => since + 1 + i),
        );
      }));

    test("several resumed watchers at different points each see a gap-free stream", () =>
      withStore(async (s) => {
        for (let i = 0; i < 20; i++) await s.create("pods", pod(`a${i}`));
        const now = Number(await s.currentResourceVersion());
        const watchers = await Promise.all(
          [now - 15, now - 5, now].map((since) => collect(s, { sinceResourceVersion: String(since) })),
        );
        for (let i = 0; i < 10; i++)
          await s.create("configmaps", {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `c${i}`, namespace: "default" },
          });
        const end = now + 10;
        for (const [i, since] of [now - 15, now - 5, now].entries()) {
          const w = watchers[i]!;
          await waitFor(() => w.events.length >= end - since, { what: `events since ${since}` });
          expect(w.events.map((e) => Number(e.object.metadata.resourceVersion))).toEqual(
            Array.from({ length: end - since }, (_, k) => since + 1 + k),
          );
        }
      }));

    test("random concurrent writes: the watch stream rebuilds exactly the listed state", () =>
      withStore(async (s) => {
        let seed = 42;
        const rand = (n: number) => {
          // xorshift32: deterministic, so a failure replays the same way
          seed ^= seed << 13;
          seed ^= seed >>> 17;
          seed ^= seed << 5;
          return (seed >>> 0) % n;
        };
        const resources = ["pods", "deployments.apps", "configmaps"];
        const start = Number(await s.currentResourceVersion());
        const all = await collect(s, { sinceResourceVersion: String(start) });
        const podsInA = await collect(s, { resource: "pods", namespace: "a" });
        let midway: Awaited<ReturnType<typeof collect>> | undefined;
        let midwayFrom = 0;
        const succeeded: KubeObject[] = [];
        let failed = 0;
        for (let round = 0; round < 30; round++) {
          if (round === 15) {
            midwayFrom = Math.max(start, Number(await s.currentResourceVersion()) - 20);
            midway = await collect(s, { sinceResourceVersion: String(midwayFrom) });
          }
          const ops = Array.from({ length: 12 }, async () => {
            const resource = resources[rand(3)]!;
            const ns = ["a", "b"][rand(2)]!;
            const name = `o${rand(6)}`;
            const current = await s.get(resource, ns, name);
            const op = rand(4);
            if (!current || op === 0) return s.create(resource, pod(name, ns, { spec: { n: rand(100) } }));
            if (op === 3) return s.delete(resource, ns, name);
            return s.update(resource, { ...current, spec: { n: rand(100) } });
          });
          for (const r of await Promise.allSettled(ops)) {
            if (r.status === "fulfilled") succeeded.push(r.value);
            else {
              expect(isStoreError(r.reason)).toBe(true);
              failed++;
            }
          }
        }
        const end = Number(await s.currentResourceVersion());
        expect(succeeded.length).toBeGreaterThan(100);
        expect(failed).toBeGreaterThan(10); // conflicts were exercised, not just the happy path
        expect(end - start).toBe(succeeded.length); // every success used one revision, failures none
        await waitFor(() => all.events.length === end - start, { what: "all events", timeoutMs: 3000 });
        const revs = all.events.map((e) => Number(e.object.metadata.resourceVersion));
        expect(revs).toEqual(Array.from({ length: end - start }, (_, k) => start + 1 + k));
        const byRevision = new Map(all.events.map((e) => [e.object.metadata.resourceVersion, e.object]));
        for (const o of succeeded) expect(byRevision.get(o.metadata.resourceVersion)).toEqual(o);
        const rebuilt = new Map<string, KubeObject>();
        for (const e of all.events) {
          const key = `${e.resource}/${e.object.metadata.namespace}/${e.object.metadata.name}`;
          if (e.type === "DELETED") rebuilt.delete(key);
          else rebuilt.set(key, e.object);
        }
        for (const resource of resources) {
          const listed = (await s.list(resource)).items;
          const expected = [...rebuilt].filter(([k]) => k.startsWith(`${resource}/`)).map(([, o]) => o);
          expect(listed).toEqual(
            expected.sort((x, y) =>
              `${x.metadata.namespace}/${x.metadata.name}`.localeCompare(
                `${y.metadata.namespace}/${y.metadata.name}`,
              ),
            ),
          );
        }
        expect(summary(podsInA.events)).toEqual(
          summary(all.events.filter((e) => e.resource === "pods" && e.object.metadata.namespace === "a")),
        );
        expect(summary(midway!.events)).toEqual(summary(all.events.filter((e) => rv(e.object) > midwayFrom)));
      }));

    test("a consumer that throws does not break the write or other watchers", () =>
      withStore(async (s) => {
        const originalError = console.error;
        console.error = () => {};
        try {
          await s.watch({}, () => {
            throw new Error("consumer bug");
          });
          const good = await collect(s, {});
          const a = await s.create("pods", pod("a"));
          expect(await s.get("pods", "default", "a")).toEqual(a);
          await waitFor(() => good.events.length === 1, { what: "event" });
        } finally {
          console.error = originalError;
        }
      }));

    test("watch events are fresh copies for each watcher", () =>
      withStore(async (s) => {
        const one = await collect(s, {});
        const two = await collect(s, {});
        await s.create("pods", pod("a"));
        await waitFor(() => one.events.length === 1 && two.events.length === 1, { what: "events" });
        one.events[0]!.object.metadata.name = "mutated";
        expect(two.events[0]!.object.metadata.name).toBe("a");
        expect((await s.get("pods", "default", "a"))!.metadata.name).toBe("a");
      }));
  });

  describe(`${name}: compaction`, () => {
    test("compaction keeps the newest changes; a watch from below them is Expired", () =>
      withStore(
        async (s) => {
          const first = await s.create("pods", pod("a"));
          let last = first;
          for (let i = 0; i < 40; i++) last = await s.update("pods", last);
          const removed = await s.compact();
          expect(removed).toBeGreaterThan(0);
          const end = rv(last);
          const e = await rejection(
            s.watch({ sinceResourceVersion: first.metadata.resourceVersion }, () => {}),
          );
          expect(isStoreError(e, "Expired")).toBe(true);
          expect((e as Error).message).toMatch(
            new RegExp(`^too old resource version: ${rv(first)} \\(\\d+\\)$`),
          );
          // The newest 10 revisions are still there to resume from.
          const w = await collect(s, { sinceResourceVersion: String(end - 10) });
          expect(w.events.map((x) => Number(x.object.metadata.resourceVersion))).toEqual(
            Array.from({ length: 10 }, (_, k) => end - 9 + k),
          );
          expect(await s.compact()).toBe(0); // nothing more to trim
        },
        { changeLogLimit: 10 },
      ));

    test("compaction during a long replay leaves the replayed range alone", () =>
      withStore(
        async (s) => {
          let last = await s.create("pods", pod("a"));
          for (let i = 0; i < 600; i++) last = await s.update("pods", last);
          const since = rv(last) - 590;
          const work: Promise<unknown>[] = [];
          const watching = collect(s, { sinceResourceVersion: String(since) });
          for (let i = 0; i < 20; i++) {
            for (let k = 0; k < 50; k++) work.push(s.create("pods", pod(`p${i}-${k}`)));
            work.push(s.compact());
          }
          const w = await watching;
          await Promise.all(work);
          const end = Number(await s.currentResourceVersion());
          await waitFor(() => w.events.length >= end - since, { what: "all events", timeoutMs: 3000 });
          expect(w.events.map((e) => Number(e.object.metadata.resourceVersion))).toEqual(
            Array.from({ length: end - since }, (_, k) => since + 1 + k),
          );
          // Once the replay is over, compaction catches up.
          await s.compact();
          await expectStoreError(
            s.watch({ sinceResourceVersion: String(since) }, () => {}),
            "Expired",
          );
        },
        { changeLogLimit: 600 },
      ));

    test("compaction never touches objects, only the log", () =>
      withStore(
        async (s) => {
          for (let i = 0; i < 30; i++) await s.create("pods", pod(`p${i}`));
          await s.compact();
          expect((await s.list("pods")).items.length).toBe(30);
          expect((await s.get("pods", "default", "p0"))!.metadata.name).toBe("p0");
        },
        { changeLogLimit: 5 },
      ));
  });

  describe.skipIf(!factory.reopen)(`${name}: persistence`, () => {
    test("objects, revision and change log survive close and reopen", async () => {
      const s = await factory.open();
      const a = await s.create("pods", pod("a"));
      const d = await s.create("deployments.apps", deployment("d"));
      const b = await s.update("pods", { ...a, spec: { n: 7 } });
      await s.close();
      const again = await factory.reopen!();
      try {
        expect(await again.get("pods", "default", "a")).toEqual(b);
        expect(await again.get("deployments.apps", "default", "d")).toEqual(d);
        expect(await again.currentResourceVersion()).toBe(b.metadata.resourceVersion!);
        const w = await collect(again, { sinceResourceVersion: a.metadata.resourceVersion });
        expect(summary(w.events)).toEqual([
          `ADDED deployments.apps default/d ${d.metadata.resourceVersion}`,
          `MODIFIED pods default/a ${b.metadata.resourceVersion}`,
        ]);
        const c = await again.create("pods", pod("c"));
        expect(rv(c)).toBe(rv(b) + 1);
        await expectStoreError(again.update("pods", a), "Conflict");
      } finally {
        await again.close();
      }
    });

    test("the compacted revision survives reopen", async () => {
      const s = await factory.open({ changeLogLimit: 3 });
      for (let i = 0; i < 10; i++) await s.create("pods", pod(`p${i}`));
      await s.compact();
      await s.close();
      const again = await factory.reopen!({ changeLogLimit: 3 });
      try {
        await expectStoreError(
          again.watch({ sinceResourceVersion: "1" }, () => {}),
          "Expired",
        );
      } finally {
        await again.close();
      }
    });
  });
}
