import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createEtcdStore } from "../../core/store/etcd-store.ts";
import type { Store } from "../../core/store/store.ts";
import { pod, runStoreSuite } from "../../core/store/testing/store-suite.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import { type EtcdCluster, etcdBinary, startEtcdCluster } from "../support/etcd-cluster.ts";

const skip = skipUnless(!!etcdBinary, "etcd store", "needs etcd (apt-get install etcd-server)");

/**
 * The store conformance suite on a real 3-member etcd cluster: every store gets a fresh key
 * prefix, so the suites' stores never see each other's objects.
 */
describe.skipIf(skip)("EtcdStore", () => {
  let cluster: EtcdCluster;
  let lastPrefix = "";
  beforeAll(async () => {
    cluster = await startEtcdCluster(3);
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  runStoreSuite("EtcdStore (3 members)", {
    open: async (opts) => {
      lastPrefix = `/t-${crypto.randomUUID()}`;
      return createEtcdStore({
        endpoints: cluster.endpoints,
        prefix: lastPrefix,
        compactIntervalMs: 0,
        ...opts,
      });
    },
    reopen: (opts) =>
      createEtcdStore({ endpoints: cluster.endpoints, prefix: lastPrefix, compactIntervalMs: 0, ...opts }),
  });

  test("two stores on one cluster (two API servers) see each other's writes and watches", async () => {
    const prefix = `/t-${crypto.randomUUID()}`;
    const a: Store = await createEtcdStore({ endpoints: cluster.endpoints, prefix, compactIntervalMs: 0 });
    const b: Store = await createEtcdStore({
      endpoints: [...cluster.endpoints].reverse(),
      prefix,
      compactIntervalMs: 0,
    });
    try {
      const seen: string[] = [];
      await b.watch({ resource: "pods" }, (e) => seen.push(`${e.type} ${e.object.metadata.name}`));
      const created = await a.create("pods", pod("web"));
      expect((await b.get("pods", "default", "web"))?.metadata.resourceVersion).toBe(
        created.metadata.resourceVersion,
      );
      // optimistic concurrency across servers: b's stale write loses
      await a.update("pods", { ...created, spec: { n: 1 } });
      await expect(b.update("pods", { ...created, spec: { n: 2 } })).rejects.toMatchObject({
        code: "Conflict",
      });
      await waitFor(() => seen.length === 2, { what: "b's watch of a's writes" });
      expect(seen).toEqual(["ADDED web", "MODIFIED web"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("losing one member of three: reads, writes and a running watch go on", async () => {
    const prefix = `/t-${crypto.randomUUID()}`;
    const s = await createEtcdStore({ endpoints: cluster.endpoints, prefix, compactIntervalMs: 0 });
    try {
      const seen: string[] = [];
      await s.watch({}, (e) => seen.push(e.object.metadata.name!));
      await s.create("pods", pod("before"));
      cluster.kill(0);
      await s.create("pods", pod("after"));
      expect((await s.list("pods")).items.map((p) => p.metadata.name)).toEqual(["after", "before"]);
      await waitFor(() => seen.length === 2, { what: "both events", timeoutMs: 10_000 });
      expect(seen).toEqual(["before", "after"]);
    } finally {
      await s.close();
    }
  }, 30_000);

  test("no member reachable: Unavailable (503), naming the endpoints", async () => {
    const e = await createEtcdStore({ endpoints: ["http://127.0.0.1:1"], compactIntervalMs: 0 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect((e as { code?: string }).code).toBe("Unavailable");
    expect((e as Error).message).toContain("127.0.0.1:1");
  }, 30_000);
});
