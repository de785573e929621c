import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { type LeaderElection, startLeaderElection } from "./leader-election.ts";

let store: Store;
const elections: LeaderElection[] = [];
afterEach(async () => {
  for (const e of elections.splice(0)) await e.stop();
  await store?.close();
});

function elect(identity: string, events: string[], now: () => number = Date.now) {
  const e = startLeaderElection({
    leases: store,
    identity,
    now,
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 40,
    onStartedLeading: () => void events.push(`${identity} leads`),
    onStoppedLeading: () => void events.push(`${identity} stops`),
  });
  elections.push(e);
  return e;
}

test("of two servers on one store exactly one leads; when it gives the lease up the other takes over", async () => {
  store = await createSqlStore({ url: ":memory:" });
  const events: string[] = [];
  const a = elect("a", events);
  await waitFor(() => a.isLeader(), { what: "a to lead" });
  const b = elect("b", events);
  await new Promise((r) => setTimeout(r, 200)); // several of b's retry periods
  expect(b.isLeader()).toBe(false);
  const lease = await store.get("leases.coordination.k8s.io", "kube-system", "minik-controllers");
  expect((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity).toBe("a");
  await a.stop();
  await waitFor(() => b.isLeader(), { what: "b to take over" });
  expect(events).toEqual(["a leads", "a stops", "b leads"]);
  const after = await store.get("leases.coordination.k8s.io", "kube-system", "minik-controllers");
  expect((after?.spec as { leaseTransitions?: number } | undefined)?.leaseTransitions).toBe(1);
});

test("a lease whose holder stopped renewing is taken once it expires, not before", async () => {
  store = await createSqlStore({ url: ":memory:" });
  const now = Date.now();
  await store.create("leases.coordination.k8s.io", {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "minik-controllers", namespace: "kube-system" },
    spec: { holderIdentity: "gone", leaseDurationSeconds: 1, renewTime: new Date(now).toISOString() },
  });
  const events: string[] = [];
  const b = elect("b", events);
  await new Promise((r) => setTimeout(r, 300));
  expect(b.isLeader()).toBe(false);
  await waitFor(() => b.isLeader(), { what: "b after the lease expired", timeoutMs: 3000 });
  expect(Date.now() - now).toBeGreaterThanOrEqual(1000);
});
