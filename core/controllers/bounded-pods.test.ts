import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { createApiServer } from "../api/app.ts";
import type { Kube } from "./owner-references.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(180_000);

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const REPLICAS = 5_000;

test(`a ${REPLICAS}-replica ReplicaSet: bounded batches, reads stay fast, pods beyond maxPods stay Pending with the reason`, async () => {
  const c = await startTestCluster({ disabled: ["deployment"] });
  cluster = c;
  const started = performance.now();
  await c.client.create("replicasets.apps", {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "many" },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: "many" } },
      template: {
        metadata: { labels: { app: "many" } },
        spec: { containers: [{ name: "a", image: "nginx" }] },
      },
    },
  });

  // Meanwhile an API client: /readyz and a read, each timed from when it was due (so time
  // spent waiting for the event loop counts), must come back quickly while the controllers work.
  const api = createApiServer({ client: c.client, auth: { token: "t" } });
  const latencies: number[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const due = performance.now() + 5;
      await new Promise((r) => setTimeout(r, 5));
      expect((await api.request("/readyz")).status).toBe(200);
      const res = await api.request("/api/v1/namespaces/default", { headers: { Authorization: "Bearer t" } });
      expect(res.status).toBe(200);
      latencies.push(performance.now() - due);
    }
  })();

  // Counted from a watch, not by listing 5,000 pods again and again (that would be the test
  // blocking the event loop, not the controllers).
  const live = new Map<string, Kube<Pod>>();
  let peak = 0;
  const stop = await c.client.watch("pods", { namespace: "default" }, (e) => {
    if (e.type === "DELETED") live.delete(e.object.metadata.uid!);
    else live.set(e.object.metadata.uid!, e.object as Kube<Pod>);
    peak = Math.max(peak, live.size);
  });
  await waitFor(() => live.size >= REPLICAS, {
    what: `${REPLICAS} pods`,
    timeoutMs: 150_000,
    intervalMs: 250,
  });
  const createdIn = performance.now() - started;
  const verdict = (p: Kube<Pod>) =>
    p.spec?.nodeName
      ? "bound"
      : p.status?.conditions?.some((x) => x.type === "PodScheduled" && x.status === "False")
        ? "told"
        : "waiting";
  const settled = await waitFor(
    () => {
      const items = [...live.values()];
      const bound = items.filter((p) => verdict(p) === "bound");
      const told = items.filter((p) => verdict(p) === "told");
      return bound.length + told.length === REPLICAS ? { bound, told } : undefined;
    },
    { what: "every pod bound or marked unschedulable", timeoutMs: 150_000, intervalMs: 250 },
  );
  stop();
  reading = false;
  await reader;

  expect(live.size).toBe(REPLICAS);
  expect(peak).toBeLessThanOrEqual(REPLICAS); // never a repeated burst
  // maxPods: the node takes 110, the rest wait with the reason kube-scheduler gives
  expect(settled.bound.length).toBe(110);
  const condition = settled.told[0]!.status!.conditions!.find((x) => x.type === "PodScheduled")!;
  expect(condition).toMatchObject({
    reason: "Unschedulable",
    message: "0/1 nodes are available: 1 Too many pods.",
  });
  expect(settled.told[0]!.status!.phase).toBe("Pending");
  const sorted = latencies.toSorted((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
  console.log(
    `${REPLICAS} pods in ${Math.round(createdIn)} ms; ${latencies.length} reads meanwhile, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
  );
  expect(p99).toBeLessThan(100);
  expect(c.logs.filter((l) => !l.includes("Conflict"))).toEqual([]);
});
