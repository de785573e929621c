import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Job } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { systemClock } from "../loop/clock.ts";
import { jobPod } from "./job-pods.ts";
import type { Kube } from "./owner-references.ts";
import { jobManifest } from "./testing/batch-manifests.ts";
import { listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

type P = Kube<Pod>;
type J = Kube<Job>;

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

/** A clock the test moves: deadlines and back-off without sleeping. */
function manualClock() {
  let t = Date.now();
  return { ...systemClock, now: () => t, advance: (ms: number) => (t += ms) };
}
let clock = manualClock();

async function start() {
  clock = manualClock();
  cluster = await startTestCluster({ clock, disabled: ["deployment", "replicaset", "cronjob"] });
}

const job = () => cluster.client.get<J>("jobs.batch", "default", "work");
const running = async () =>
  (await listAll<P>(cluster.client, "pods")).filter((p) => p.status?.phase === "Running");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** What the node agent publishes when a pod's containers exit. */
async function finish(pod: P, exitCode: number) {
  const fresh = await cluster.client.get<P>("pods", "default", pod.metadata.name!);
  await cluster.client.updateStatus("pods", {
    ...fresh,
    status: {
      ...fresh.status,
      phase: exitCode === 0 ? "Succeeded" : "Failed",
      conditions: fresh.status?.conditions?.map((c) => (c.type === "Ready" ? { ...c, status: "False" } : c)),
      containerStatuses: fresh.spec!.containers.map((c) => ({
        name: c.name,
        image: c.image ?? "",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode,
            reason: exitCode ? "Error" : "Completed",
            finishedAt: iso(clock.now()),
          },
        },
      })),
    },
  });
}

async function waitRunning(n: number) {
  return waitFor(
    async () => {
      const list = await running();
      return list.length === n ? list : undefined;
    },
    { what: `${n} running pods` },
  );
}

async function waitJob(check: (j: J) => boolean, what: string) {
  return waitFor(
    async () => {
      const j = await job();
      return check(j) ? j : undefined;
    },
    { what },
  );
}

/** One reconcile run by the test (retried when the controller's own worker wrote first). */
async function reconcile() {
  await waitFor(async () => {
    await cluster.manager.controllers.job!.reconcile("default/work");
    return true;
  });
}

const condition = (j: J, type: string) => j.status?.conditions?.find((c) => c.type === type);

describe("job controller", () => {
  test("3 completions at parallelism 2: never more than 2 pods, then SuccessCriteriaMet and Complete", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { completions: 3, parallelism: 2 }));
    const first = await waitRunning(2);
    const j = await job();
    for (const p of first) {
      expect(p.metadata.labels).toMatchObject({
        "batch.kubernetes.io/job-name": "work",
        "job-name": "work",
        "batch.kubernetes.io/controller-uid": j.metadata.uid,
        "controller-uid": j.metadata.uid,
      });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Job", name: "work", controller: true });
      expect(p.metadata.generateName).toBe("work-");
      expect(p.spec?.restartPolicy).toBe("Never");
    }
    await waitJob((x) => x.status?.active === 2 && x.status.ready === 2, "2 active, 2 ready");
    expect((await job()).status?.startTime).toBeDefined();

    await finish(first[0]!, 0);
    await finish(first[1]!, 0);
    const [third] = await waitRunning(1);
    await waitJob((x) => x.status?.succeeded === 2 && x.status.active === 1, "2 succeeded, 1 active");
    expect((await listAll<P>(cluster.client, "pods")).length).toBe(3);
    await finish(third!, 0);
    const done = await waitJob((x) => !!condition(x, "Complete"), "Complete");
    expect(done.status).toMatchObject({
      succeeded: 3,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
    });
    expect(done.status?.active).toBeUndefined();
    expect(done.status?.completionTime).toBeDefined();
    expect(done.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["SuccessCriteriaMet", "True", "CompletionsReached"],
      ["Complete", "True", "CompletionsReached"],
    ]);
    // A second reconcile changes nothing.
    await reconcile();
    expect((await job()).metadata.resourceVersion).toBe(done.metadata.resourceVersion);
    // events are written in batches, a moment after they are recorded
    const reasons = await waitFor(
      async () => {
        const r = (await listAll(cluster.client, "events")).map((e) => e.reason);
        return r.includes("Completed") ? r : undefined;
      },
      { what: "the Completed event" },
    );
    expect(reasons.filter((r) => r === "SuccessfulCreate").length).toBe(3);
  });

  test("backoffLimit: a failed pod is replaced after the back-off; one failure too many fails the Job", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { backoffLimit: 1 }));
    const [firstPod] = await waitRunning(1);
    await finish(firstPod!, 1);
    await waitJob((x) => x.status?.failed === 1, "1 failed");
    // Back-off of 10 s: nothing new yet.
    await reconcile();
    expect((await running()).length).toBe(0);
    clock.advance(11_000);
    await reconcile();
    const [second] = await waitRunning(1);
    await finish(second!, 2);
    const failed = await waitJob((x) => !!condition(x, "Failed"), "Failed");
    expect(failed.status?.failed).toBe(2);
    expect(condition(failed, "FailureTarget")).toMatchObject({
      status: "True",
      reason: "BackoffLimitExceeded",
    });
    expect(condition(failed, "Failed")).toMatchObject({
      reason: "BackoffLimitExceeded",
      message: "Job has reached the specified backoff limit",
    });
    expect(failed.status?.completionTime).toBeUndefined();
  });

  test("Indexed: one pod per index with JOB_COMPLETION_INDEX, hostname and completedIndexes", async () => {
    await start();
    await cluster.client.create(
      "jobs.batch",
      jobManifest("work", { completionMode: "Indexed", completions: 3, parallelism: 3 }),
    );
    const pods = await waitRunning(3);
    const byIndex = new Map(
      pods.map((p) => [p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"], p]),
    );
    expect([...byIndex.keys()].sort()).toEqual(["0", "1", "2"]);
    const p1 = byIndex.get("1")!;
    expect(p1.metadata.labels?.["batch.kubernetes.io/job-completion-index"]).toBe("1");
    expect(p1.metadata.generateName).toBe("work-1-");
    expect(p1.spec?.hostname).toBe("work-1");
    expect(p1.spec?.containers[0]?.env).toContainEqual({
      name: "JOB_COMPLETION_INDEX",
      valueFrom: {
        fieldRef: {
          apiVersion: "v1",
          fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
        },
      },
    });
    await finish(p1, 0);
    await waitJob((x) => x.status?.completedIndexes === "1" && x.status.succeeded === 1, "index 1 done");
    // A failed index gets a new pod for the same index.
    await finish(byIndex.get("0")!, 1);
    clock.advance(11_000);
    await reconcile();
    const again = await waitFor(async () =>
      (await running()).find(
        (p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"] === "0",
      ),
    );
    await finish(again, 0);
    await finish(byIndex.get("2")!, 0);
    const done = await waitJob((x) => !!condition(x, "Complete"), "Complete");
    expect(done.status).toMatchObject({ completedIndexes: "0-2", succeeded: 3, failed: 1 });
  });

  test("activeDeadlineSeconds: running pods are deleted and the Job fails with DeadlineExceeded", async () => {
    await start();
    await cluster.client.create(
      "jobs.batch",
      jobManifest("work", { activeDeadlineSeconds: 30, parallelism: 2 }),
    );
    await waitRunning(2);
    clock.advance(31_000);
    await reconcile();
    const failed = await waitJob((x) => !!condition(x, "Failed"), "Failed");
    expect(condition(failed, "Failed")).toMatchObject({
      reason: "DeadlineExceeded",
      message: "Job was active longer than specified deadline",
    });
    expect(condition(failed, "FailureTarget")?.reason).toBe("DeadlineExceeded");
    await waitFor(async () => (await listAll(cluster.client, "pods")).length === 0, { what: "pods deleted" });
  });

  test("suspend: no pods and a Suspended condition; resuming starts them", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { suspend: true }));
    const suspended = await waitJob((x) => condition(x, "Suspended")?.status === "True", "Suspended");
    expect(condition(suspended, "Suspended")).toMatchObject({
      reason: "JobSuspended",
      message: "Job suspended",
    });
    expect(suspended.status?.startTime).toBeUndefined();
    expect((await listAll(cluster.client, "pods")).length).toBe(0);
    await cluster.client.update("jobs.batch", { ...suspended, spec: { ...suspended.spec!, suspend: false } });
    await waitRunning(1);
    const resumed = await waitJob((x) => condition(x, "Suspended")?.status === "False", "resumed");
    expect(condition(resumed, "Suspended")?.reason).toBe("JobResumed");
    expect(resumed.status?.startTime).toBeDefined();
    // Suspending again deletes the running pod.
    await cluster.client.update("jobs.batch", { ...resumed, spec: { ...resumed.spec!, suspend: true } });
    await waitFor(async () => (await listAll(cluster.client, "pods")).length === 0, { what: "pod deleted" });
  });

  test("podFailurePolicy: Ignore does not count, FailJob fails at once", async () => {
    await start();
    await cluster.client.create(
      "jobs.batch",
      jobManifest("work", {
        backoffLimit: 0,
        podFailurePolicy: {
          rules: [
            { action: "Ignore", onExitCodes: { operator: "In", values: [3] } },
            { action: "FailJob", onExitCodes: { containerName: "main", operator: "In", values: [42] } },
          ],
        },
      }),
    );
    const [first] = await waitRunning(1);
    await finish(first!, 3);
    const [second] = await waitRunning(1);
    expect(second!.metadata.name).not.toBe(first!.metadata.name);
    expect((await job()).status?.failed).toBeUndefined();
    await finish(second!, 42);
    const failed = await waitJob((x) => !!condition(x, "Failed"), "Failed");
    expect(condition(failed, "Failed")?.reason).toBe("PodFailurePolicy");
    expect(condition(failed, "Failed")?.message).toBe(
      `Container main for pod default/${second!.metadata.name} failed with exit code 42 matching FailJob rule at index 1`,
    );
  });

  test("a work queue: lowering parallelism deletes the extra pods; the first success ends it", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { parallelism: 3 }));
    await waitRunning(3);
    await waitJob((x) => x.status?.active === 3, "3 active");
    const j = await job();
    await cluster.client.update("jobs.batch", { ...j, spec: { ...j.spec!, parallelism: 1 } });
    const [left] = await waitRunning(1);
    await waitJob((x) => x.status?.active === 1 && x.status.ready === 1, "1 active, 1 ready");
    await finish(left!, 0);
    const done = await waitJob((x) => !!condition(x, "Complete"), "Complete");
    expect(done.status?.succeeded).toBe(1);
    expect(done.status?.failed).toBeUndefined();
  });

  test("ttlSecondsAfterFinished: the finished Job is deleted once the TTL runs out", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { ttlSecondsAfterFinished: 60 }));
    const [pod] = await waitRunning(1);
    await finish(pod!, 0);
    await waitJob((x) => !!condition(x, "Complete"), "Complete");
    clock.advance(61_000);
    await reconcile();
    await waitFor(async () => !(await cluster.client.tryGet("jobs.batch", "default", "work")), {
      what: "job gone",
    });
    // The collector removes its pod.
    await waitFor(async () => (await listAll(cluster.client, "pods")).length === 0, {
      what: "pod collected",
    });
  });

  test("job tracking: a finished pod force-deleted before the controller saw it is counted exactly once", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { completions: 2 }));
    const [pod] = await waitRunning(1);
    expect(pod!.metadata.finalizers).toEqual(["batch.kubernetes.io/job-tracking"]);
    // The controller is away while the pod succeeds and is force-deleted.
    await cluster.manager.controllers.job!.stop();
    await finish(pod!, 0);
    await cluster.client.delete("pods", "default", pod!.metadata.name!, { gracePeriodSeconds: 0 });
    const held = await cluster.client.get<P>("pods", "default", pod!.metadata.name!);
    expect(held.metadata.deletionTimestamp).toBeDefined();
    // Back again: it counts the pod, then lets it go.
    await waitFor(
      async () => {
        await cluster.manager.controllers.job!.reconcile("default/work");
        return !(await cluster.client.tryGet("pods", "default", pod!.metadata.name!));
      },
      { what: "the counted pod released and removed" },
    );
    const counted = await waitJob((x) => x.status?.succeeded === 1, "1 succeeded");
    expect(counted.status?.failed).toBeUndefined();
    expect(counted.status?.uncountedTerminatedPods).toEqual({});
    await reconcile();
    expect((await job()).status?.succeeded).toBe(1);
    const second = (await running()).at(0)!;
    expect(second.metadata.finalizers).toEqual(["batch.kubernetes.io/job-tracking"]);
  });

  test("job tracking: pods made before minik tracked with the finalizer still count (a Job running across an upgrade)", async () => {
    await start();
    await cluster.manager.controllers.job!.stop();
    const j = (await cluster.client.create("jobs.batch", jobManifest("work", { completions: 2 }))) as J;
    for (const exitCode of [0, 0]) {
      const legacy = jobPod(j, undefined);
      delete (legacy.metadata as { finalizers?: string[] }).finalizers;
      const pod = await cluster.client.create<P>("pods", {
        ...legacy,
        spec: { ...legacy.spec!, nodeName: "minik-test" },
      });
      const phase = async () =>
        (await cluster.client.get<P>("pods", "default", pod.metadata.name!)).status?.phase;
      await waitFor(async () => (await phase()) === "Running", { what: "legacy pod running" });
      await finish(pod, exitCode);
    }
    await waitFor(
      async () => {
        await cluster.manager.controllers.job!.reconcile("default/work");
        return condition(await job(), "Complete");
      },
      { what: "Complete from the legacy pods" },
    );
    expect((await job()).status?.succeeded).toBe(2);
    expect((await listAll(cluster.client, "pods")).length).toBe(2);
  });

  test("job tracking: a running pod deleted by the user is one failure; finished pods lose the finalizer", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { completions: 1, backoffLimit: 3 }));
    const [pod] = await waitRunning(1);
    await cluster.client.delete("pods", "default", pod!.metadata.name!);
    await waitJob((x) => x.status?.failed === 1, "1 failed");
    const [next] = await waitRunning(1);
    await finish(next!, 0);
    const done = await waitJob((x) => !!condition(x, "Complete"), "Complete");
    expect(done.status).toMatchObject({ succeeded: 1, failed: 1, uncountedTerminatedPods: {} });
    const left = await listAll<P>(cluster.client, "pods");
    expect(left.map((p) => [p.status?.phase, p.metadata.finalizers ?? []])).toEqual([["Succeeded", []]]);
  });

  test("job tracking: deleting the Job does not hang on its pods; orphaned pods are released", async () => {
    await start();
    await cluster.client.create("jobs.batch", jobManifest("work", { parallelism: 2 }));
    await waitRunning(2);
    await cluster.client.delete("jobs.batch", "default", "work", { propagationPolicy: "Orphan" });
    await waitFor(async () => !(await cluster.client.tryGet("jobs.batch", "default", "work")), {
      what: "job gone",
    });
    const orphans = await waitFor(
      async () => {
        const list = await listAll<P>(cluster.client, "pods");
        return list.every((p) => !p.metadata.finalizers?.length && !p.metadata.ownerReferences?.length)
          ? list
          : undefined;
      },
      { what: "orphaned pods without finalizer" },
    );
    expect(orphans.length).toBe(2);

    await cluster.client.create("jobs.batch", jobManifest("again", { parallelism: 2 }));
    await waitFor(async () => (await running()).length === 4, { what: "4 running pods" });
    await cluster.client.delete("jobs.batch", "default", "again", { propagationPolicy: "Foreground" });
    await waitFor(async () => !(await cluster.client.tryGet("jobs.batch", "default", "again")), {
      what: "foreground-deleted job gone",
    });
    await waitFor(async () => (await listAll(cluster.client, "pods")).length === 2, {
      what: "its pods gone",
    });
  });

  const indexOf = (p: P) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"];
  const failures = (p: P) => p.metadata.annotations?.["batch.kubernetes.io/job-index-failure-count"];
  /** An Indexed Job of `n` completions, all at once, plus `spec` fields. */
  const startIndexed = async (n: number, spec: Record<string, unknown>) => {
    await start();
    const indexed = { completionMode: "Indexed", completions: n, parallelism: n };
    await cluster.client.create("jobs.batch", jobManifest("work", { ...indexed, ...spec }));
  };
  const runningIndex = async (i: string) =>
    waitFor(async () => (await running()).find((p) => indexOf(p) === i), { what: `index ${i} running` });

  test("backoffLimitPerIndex: an index retried past its limit fails alone; the others finish; FailedIndexes", async () => {
    await startIndexed(3, { backoffLimitPerIndex: 1 });
    const pods = await waitRunning(3);
    expect(pods.map(failures)).toEqual(["0", "0", "0"]);
    await finish(pods.find((p) => indexOf(p) === "1")!, 1);
    await waitJob((x) => x.status?.failed === 1, "1 failed");
    // Index 1 waits out its own back-off, then comes back carrying its failure.
    await reconcile();
    expect((await running()).map(indexOf).sort()).toEqual(["0", "2"]);
    clock.advance(11_000);
    await reconcile();
    const retry = await runningIndex("1");
    expect(failures(retry)).toBe("1");
    await finish(retry, 1);
    const failed = await waitJob((x) => x.status?.failedIndexes === "1", "index 1 failed");
    expect(failed.status?.failed).toBe(2);
    expect(condition(failed, "FailureTarget")).toBeUndefined();
    for (const p of pods.filter((x) => indexOf(x) !== "1")) await finish(p, 0);
    const done = await waitJob((x) => !!condition(x, "Failed"), "Failed");
    expect(done.status).toMatchObject({
      completedIndexes: "0,2",
      failedIndexes: "1",
      succeeded: 2,
      failed: 2,
    });
    expect(condition(done, "FailureTarget")).toMatchObject({
      reason: "FailedIndexes",
      message: "Job has failed indexes",
    });
    expect(condition(done, "Failed")?.reason).toBe("FailedIndexes");
  });

  test("a FailIndex rule fails its index at once; past maxFailedIndexes the Job fails and its pods go", async () => {
    await startIndexed(3, {
      backoffLimitPerIndex: 5,
      maxFailedIndexes: 0,
      podFailurePolicy: { rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [42] } }] },
    });
    const pods = await waitRunning(3);
    await finish(pods.find((p) => indexOf(p) === "2")!, 42);
    const failed = await waitJob((x) => !!condition(x, "Failed"), "Failed");
    expect(failed.status?.failedIndexes).toBe("2");
    expect(condition(failed, "Failed")).toMatchObject({
      reason: "MaxFailedIndexesExceeded",
      message: "Job has exceeded the specified maximal number of failed indexes",
    });
    await waitFor(async () => (await running()).length === 0, { what: "running pods deleted" });
  });

  test("successPolicy: the rule's indexes succeed, SuccessCriteriaMet (SuccessPolicy), the rest are stopped, Complete", async () => {
    await startIndexed(4, { successPolicy: { rules: [{ succeededIndexes: "0-1" }] } });
    const pods = await waitRunning(4);
    await finish(pods.find((p) => indexOf(p) === "0")!, 0);
    await waitJob((x) => x.status?.completedIndexes === "0", "index 0 done");
    expect(condition(await job(), "SuccessCriteriaMet")).toBeUndefined();
    await finish(pods.find((p) => indexOf(p) === "1")!, 0);
    const done = await waitJob((x) => !!condition(x, "Complete"), "Complete");
    expect(condition(done, "SuccessCriteriaMet")).toMatchObject({
      reason: "SuccessPolicy",
      message: "Matched rules at index 0",
    });
    expect(condition(done, "Complete")?.reason).toBe("SuccessPolicy");
    expect(done.status).toMatchObject({ completedIndexes: "0-1", succeeded: 2 });
    expect(done.status?.failed).toBeUndefined();
    expect(await running()).toEqual([]);
  });
});
