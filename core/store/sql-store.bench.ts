/**
 * Store-level latency figures (not a test): `bun core/store/sql-store.bench.ts [url]`.
 * Default url: a fresh file in the temp dir. Prints p50/p99 in milliseconds for 1,000 stored pods.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../object.ts";
import { createSqlStore } from "./sql-store.ts";

const dir = mkdtempSync(join(tmpdir(), "minik-store-bench-"));
const url = process.argv[2] ?? `file:${join(dir, "state.db")}`;
const store = await createSqlStore({ url, compactIntervalMs: 0 });

/** A pod of realistic size (~1.3 KB of JSON) as the controllers write them. */
function pod(i: number): KubeObject {
  const now = new Date().toISOString();
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `pod-${i}`,
      namespace: `ns-${i % 10}`,
      uid: crypto.randomUUID(),
      labels: { app: `app-${i % 50}`, "pod-template-hash": "abcdef1234" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: crypto.randomUUID(), controller: true },
      ],
      creationTimestamp: now,
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "registry.local/app:1.0",
          command: ["/bin/sh", "-c", "sleep 1000"],
          env: Array.from({ length: 10 }, (_, k) => ({ name: `E${k}`, value: "v".repeat(20) })),
        },
      ],
      nodeName: "node",
    },
    status: {
      phase: "Running",
      podIP: "10.88.0.5",
      containerStatuses: [{ name: "c", ready: true, restartCount: 0 }],
    },
  };
}

function report(what: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(3);
  console.log(`${what.padEnd(36)} p50 ${at(0.5).padStart(7)}  p99 ${at(0.99).padStart(7)}  (n=${ms.length})`);
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

const key = (i: number) => [`ns-${i % 10}`, `pod-${i % 1000}`] as const;

report("create", await timed(1000, (i) => store.create("pods", pod(i))));
report("get", await timed(5000, (i) => store.get("pods", ...key(i))));
report(
  "get + update",
  await timed(2000, async (i) => store.update("pods", (await store.get("pods", ...key(i)))!)),
);
report("list 1000 pods", await timed(50, () => store.list("pods")));
report("list 100 pods (one namespace)", await timed(200, (i) => store.list("pods", `ns-${i % 10}`)));

// 20 writers and 20 readers at once, as a busy API would see them.
const mutate: number[] = [];
const read: number[] = [];
await Promise.all([
  ...Array.from({ length: 20 }, async (_, w) => {
    for (let k = 0; k < 100; k++) {
      const t = performance.now();
      await store.update("pods", (await store.get("pods", ...key(w * 50 + (k % 50))))!);
      mutate.push(performance.now() - t);
    }
  }),
  ...Array.from({ length: 20 }, async (_, r) => {
    for (let k = 0; k < 100; k++) {
      const t = performance.now();
      await store.get("pods", ...key(r * 37 + k));
      read.push(performance.now() - t);
    }
  }),
]);
report("get + update, 20 writers + 20 readers", mutate);
report("get, 20 writers + 20 readers", read);

const since = Number(await store.currentResourceVersion()) - 5000;
const t = performance.now();
let events = 0;
const stop = await store.watch({ sinceResourceVersion: String(since) }, () => events++);
console.log(
  `${"watch replay of 5000 changes".padEnd(36)} ${(performance.now() - t).toFixed(1)} ms (${events} events)`,
);
stop();

await store.close();
rmSync(dir, { recursive: true, force: true });
