import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { ControllerName } from "./manager.ts";
import type { Kube } from "./owner-references.ts";
import { BURST_REPLICAS } from "./slow-start.ts";
import { jobManifest } from "./testing/batch-manifests.ts";
import { daemonSetManifest, listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(120_000);

type P = Kube<Pod>;

/**
 * Every controller that makes pods shares slow-start.ts: one reconcile of a huge count creates
 * (or deletes) at most BURST_REPLICAS pods; the next pass, brought by their events, does the rest.
 * The controller's own worker is stopped so that each reconcile here is exactly one pass.
 */
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const HUGE = 2_000;

async function oneReconcile(
  c: TestCluster,
  name: ControllerName,
  key: string,
  changed: () => Promise<boolean>,
) {
  const controller = c.manager.controllers[name]!;
  // The informers may not hold the new object yet: a pass that found nothing is run again.
  await waitFor(
    async () => {
      await controller.reconcile(key);
      return changed();
    },
    { what: `a ${name} pass that acts` },
  );
}

const podCount = async (c: TestCluster) => (await listAll<P>(c.client, "pods")).length;

test(`a Job of parallelism ${HUGE}: one reconcile creates ${BURST_REPLICAS} pods, not ${HUGE}`, async () => {
  const c = await startTestCluster({ disabled: ["deployment", "replicaset", "cronjob", "scheduler"] });
  cluster = c;
  await c.manager.controllers.job!.stop();
  await c.client.create("jobs.batch", jobManifest("wide", { parallelism: HUGE, completions: HUGE }));
  await oneReconcile(c, "job", "default/wide", async () => (await podCount(c)) > 0);
  expect(await podCount(c)).toBe(BURST_REPLICAS);
  await c.manager.controllers.job!.reconcile("default/wide");
  expect(await podCount(c)).toBe(2 * BURST_REPLICAS);
});

test(`a Parallel StatefulSet of ${HUGE} replicas: one reconcile creates ${BURST_REPLICAS} pods; the collector deletes a burst per pass`, async () => {
  const disabled: ControllerName[] = ["deployment", "replicaset", "scheduler"];
  const c = await startTestCluster({ disabled });
  cluster = c;
  await c.manager.controllers.statefulset!.stop();
  const template = {
    metadata: { labels: { app: "wide" } },
    spec: { containers: [{ name: "a", image: "busybox:1" }] },
  };
  const spec = { replicas: HUGE, serviceName: "wide", podManagementPolicy: "Parallel", template };
  await c.client.create("statefulsets.apps", {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "wide" },
    spec: { ...spec, selector: { matchLabels: template.metadata.labels } },
  });
  await oneReconcile(c, "statefulset", "default/wide", async () => (await podCount(c)) > 0);
  const pods = await listAll<P>(c.client, "pods");
  expect(pods.length).toBe(BURST_REPLICAS);
  expect(pods.map((p) => p.metadata?.name)).toContain(`wide-${BURST_REPLICAS - 1}`);
  await c.manager.controllers.statefulset!.reconcile("default/wide");
  expect(await podCount(c)).toBe(2 * BURST_REPLICAS);

  // Foreground deletion: the garbage collector deletes its dependents a burst per pass too (in
  // foreground themselves, as they block their owner: each stays marked until its own turn).
  await c.manager.controllers["garbage-collector"]!.stop();
  await c.client.delete("statefulsets.apps", "default", "wide", { propagationPolicy: "Foreground" });
  const deleting = async () =>
    (await listAll<P>(c.client, "pods")).filter((p) => p.metadata.deletionTimestamp).length;
  await oneReconcile(
    c,
    "garbage-collector",
    "statefulsets.apps|default/wide",
    async () => (await deleting()) > 0,
  );
  // The burst counts every dependent: the set's ControllerRevision is one of them.
  const revisions = await listAll<P>(c.client, "controllerrevisions.apps");
  const revisionsDeleted = revisions.filter((r) => r.metadata.deletionTimestamp).length;
  expect(revisions.length).toBe(1);
  expect((await deleting()) + revisionsDeleted).toBe(BURST_REPLICAS);
  expect(await podCount(c)).toBe(2 * BURST_REPLICAS);
});

test(`a DaemonSet over ${BURST_REPLICAS + 100} nodes: one reconcile creates ${BURST_REPLICAS} pods`, async () => {
  const c = await startTestCluster({ disabled: ["deployment", "replicaset", "scheduler", "taint-eviction"] });
  cluster = c;
  await c.manager.controllers.daemonset!.stop();
  const names = Array.from({ length: BURST_REPLICAS + 100 }, (_, i) => `node-${i}`);
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(
      names
        .slice(i, i + 50)
        .map((name) => c.client.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name } })),
    );
  await c.client.create("daemonsets.apps", daemonSetManifest());
  // Wait until the informer holds every node, so the pass sees all of them.
  await waitFor(async () => (await listAll(c.client, "nodes")).length > names.length, {
    what: "nodes listed",
  });
  await oneReconcile(c, "daemonset", "default/agent", async () => (await podCount(c)) > 0);
  expect(await podCount(c)).toBe(BURST_REPLICAS);
  // The next pass places the rest (one per node, the test node included).
  await c.manager.controllers.daemonset!.reconcile("default/agent");
  expect(await podCount(c)).toBe(names.length + 1);
});
