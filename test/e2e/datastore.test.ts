import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { skipUnless, waitFor } from "../support/env.ts";
import { etcdBinary, startEtcdCluster } from "../support/etcd-cluster.ts";
import { postgresBin, startPostgres } from "../support/postgres-server.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

/** A shared datastore for the test: its `--datastore-endpoint`, and how to stop it. */
interface Datastore {
  endpoint: string;
  stop(): Promise<void>;
}

const CONFIGMAP = `apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
data:
  greeting: hello
`;

/**
 * Issue 19's datastore choice through the compiled binary: two `minik up --datastore-endpoint …`
 * (control plane only) on one shared datastore — a 3-member etcd, or a Postgres server — serve the
 * same objects; a server that goes away loses nothing, and one started on a fresh data dir finds
 * everything there.
 */
datastoreSuite(
  "etcd",
  skipUnless(!!etcdBinary, "etcd datastore e2e", "needs etcd (apt-get install etcd-server)"),
  async () => {
    const cluster = await startEtcdCluster(3);
    const endpoint = `etcd://${cluster.endpoints.map((e) => e.replace("http://", "")).join(",")}`;
    return { endpoint, stop: () => cluster.stop() };
  },
);

datastoreSuite(
  "Postgres",
  skipUnless(!!postgresBin, "postgres datastore e2e", "needs PostgreSQL (apt-get install postgresql)"),
  async () => {
    const server = await startPostgres();
    return { endpoint: server.url, stop: () => server.stop() };
  },
);

function datastoreSuite(name: string, skip: boolean, open: () => Promise<Datastore>): void {
  describe.skipIf(!existsSync(BINARY) || skip)(
    `compiled binary: ${name} as the datastore, two API servers`,
    () => {
      let store: Datastore;
      const daemons: Daemon[] = [];
      const start = async () => {
        const d = await startDaemon(["--runtime", "none", "--datastore-endpoint", store.endpoint]);
        daemons.push(d);
        return d;
      };

      beforeAll(async () => {
        store = await open();
      }, 60_000);
      afterAll(async () => {
        for (const d of daemons) {
          await d.stop().catch(() => {});
          removeDir(d.dataDir);
        }
        await store?.stop();
      }, 30_000);

      test("a write through one server is read and watched through the other; a fresh server sees it all", async () => {
        const a = await start();
        const b = await start();
        const watch = Bun.spawn([BINARY, "get", "configmaps", "-w"], {
          env: b.env,
          stdout: "pipe",
          stderr: "pipe",
        });
        try {
          await a.apply("shared", CONFIGMAP);
          const onB = await b.getJson(["configmap", "shared"]);
          expect(onB.data).toEqual({ greeting: "hello" });
          // resourceVersions are the datastore's revisions: the same on both servers
          const onA = await a.getJson(["configmap", "shared"]);
          expect(onA.metadata.resourceVersion).toBe(onB.metadata.resourceVersion);
          expect((await b.minik(["delete", "configmap", "shared"])).code).toBe(0);
          expect((await a.minik(["get", "configmap", "shared"])).code).toBe(1);
          await a.apply("shared", CONFIGMAP);
          await a.stop();
          const c = await start();
          expect((await c.getJson(["configmap", "shared"])).data).toEqual({ greeting: "hello" });
        } finally {
          watch.kill();
        }
        const seen = await new Response(watch.stdout).text();
        expect(seen).toMatch(/^shared\s/m);
      }, 90_000);

      test("the cluster's controllers run once: one elected server makes a Deployment's pods", async () => {
        const [a, b] = daemons.length >= 2 ? daemons.slice(-2) : [await start(), await start()];
        await a!.apply(
          "web",
          `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.7.9
`,
        );
        const pods = async () => ((await b!.getJson(["pods", "-l", "app=web"])).items as unknown[]).length;
        await waitFor(async () => (await pods()) === 3, { what: "3 pods", timeoutMs: 20_000 });
        // Two controller managers would each make the missing pods; give a second one time to show.
        await new Promise((r) => setTimeout(r, 2000));
        expect(await pods()).toBe(3);
        expect(((await a!.getJson(["replicasets", "-l", "app=web"])).items as unknown[]).length).toBe(1);
      }, 60_000);
    },
  );
}
