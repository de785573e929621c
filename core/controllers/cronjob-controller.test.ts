import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { CronJob, Job } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { systemClock } from "../loop/clock.ts";
import { formatInZone } from "./cronjob-controller.ts";
import type { Kube } from "./owner-references.ts";
import { cronJobManifest } from "./testing/batch-manifests.ts";
import { listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

type CJ = Kube<CronJob>;
type J = Kube<Job>;
type P = Kube<Pod>;

const FIVE_MIN = 5 * 60_000;
let cluster: TestCluster;
let t = 0;
const clock = { ...systemClock, now: () => t };

afterEach(async () => {
  await cluster?.stop();
});

async function start(spec: Record<string, unknown> = {}) {
  t = Date.now();
  cluster = await startTestCluster({ clock, disabled: ["deployment", "replicaset"] });
  await cluster.client.create("cronjobs.batch", cronJobManifest("tick", spec));
}

/**
 * Moves the clock to `ms` past the n-th five-minute mark from now and lets the controller's
 * worker sync (one sync per key at a time, as in production).
 */
function advanceToMark(n: number, ms = 1_000) {
  t = Math.floor(t / FIVE_MIN) * FIVE_MIN + n * FIVE_MIN + ms;
  cluster.manager.controllers.cronjob!.enqueue("default/tick");
}

/** One sync run by the test, for checks that nothing happens (retried on a write race). */
async function reconcile() {
  await waitFor(async () => {
    await cluster.manager.controllers.cronjob!.reconcile("default/tick");
    return true;
  });
}

/** The Jobs once `check` holds for them. */
async function jobsWhen(check: (names: string[]) => boolean, what: string): Promise<J[]> {
  return waitFor(
    async () => {
      const list = await jobs();
      return check(list.map((j) => j.metadata.name!)) ? list : undefined;
    },
    { what },
  );
}

const name = () => `tick-${mark() / 60_000}`;

const cronJob = () => cluster.client.get<CJ>("cronjobs.batch", "default", "tick");
const jobs = () => listAll<J>(cluster.client, "jobs.batch");
const mark = () => Math.floor(t / FIVE_MIN) * FIVE_MIN;

/** Finishes every running pod of the cluster with `exitCode`. */
async function finishPods(exitCode = 0) {
  const pods = await waitFor(async () => {
    const list = (await listAll<P>(cluster.client, "pods")).filter((p) => p.status?.phase === "Running");
    return list.length ? list : undefined;
  });
  for (const p of pods) {
    await cluster.client.updateStatus("pods", {
      ...p,
      status: {
        ...p.status,
        phase: exitCode ? "Failed" : "Succeeded",
        containerStatuses: [
          {
            name: "main",
            image: "busybox:1.36",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode, finishedAt: new Date(t).toISOString() } },
          },
        ],
      },
    });
  }
}

async function waitFinished(name: string, type = "Complete") {
  await waitFor(
    async () => {
      const j = await cluster.client.get<J>("jobs.batch", "default", name);
      return j.status?.conditions?.some((c) => c.type === type && c.status === "True");
    },
    { what: `${name} ${type}` },
  );
}

describe("cronjob controller", () => {
  test("starts a Job at the schedule time, tracks it as active, then records lastSuccessfulTime", async () => {
    await start();
    await reconcile();
    expect(await jobs()).toEqual([]);
    advanceToMark(1);
    const [job] = await jobsWhen((n) => n.length === 1, "a job");
    expect(job!.metadata.name).toBe(name());
    expect(job!.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "CronJob",
      name: "tick",
      controller: true,
    });
    const scheduled = new Date(mark()).toISOString().replace(".000", "");
    expect(job!.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toBe(scheduled);
    const cj = await waitFor(async () => {
      const x = await cronJob();
      return x.status?.lastScheduleTime ? x : undefined;
    });
    expect(cj.status?.active?.map((r) => r.name)).toEqual([job!.metadata.name]);
    expect(cj.status?.lastScheduleTime).toBe(scheduled);
    // The same schedule time never starts twice.
    await reconcile();
    expect((await jobs()).length).toBe(1);

    await finishPods();
    await waitFinished(job!.metadata.name!);
    const done = await waitFor(async () => {
      const x = await cronJob();
      return !x.status?.active && x.status?.lastSuccessfulTime ? x : undefined;
    });
    expect(done.status?.lastSuccessfulTime).toBeDefined();
    await waitFor(
      async () => (await listAll(cluster.client, "events")).some((e) => e.reason === "SawCompletedJob"),
      {
        what: "SawCompletedJob event",
      },
    );
  });

  test("after a long outage only the most recent missed time runs (one catch-up)", async () => {
    await start();
    advanceToMark(12 * 5); // five hours later: 60 missed times
    await jobsWhen((n) => n.length === 1, "one job");
    await waitFor(async () => (await cronJob()).status?.lastScheduleTime);
    await reconcile();
    expect((await jobs()).map((j) => j.metadata.name)).toEqual([name()]);
  });

  test("startingDeadlineSeconds: a time missed by more than the deadline is skipped", async () => {
    await start({ startingDeadlineSeconds: 30 });
    t = Math.floor(t / FIVE_MIN) * FIVE_MIN + FIVE_MIN + 60_000;
    await reconcile();
    expect(await jobs()).toEqual([]);
    advanceToMark(1, 10_000);
    await jobsWhen((n) => n.length === 1 && n[0] === name(), "job within the deadline");
  });

  test("Forbid skips while a run is active; Replace deletes it and starts the new one", async () => {
    await start({ concurrencyPolicy: "Forbid" });
    advanceToMark(1);
    await jobsWhen((n) => n.length === 1, "first job");
    await waitFor(async () => (await cronJob()).status?.active?.length === 1);
    advanceToMark(1);
    await waitFor(
      async () => (await listAll(cluster.client, "events")).some((e) => e.reason === "JobAlreadyActive"),
      { what: "JobAlreadyActive event" },
    );
    expect((await jobs()).length).toBe(1);

    // Replace: the pending time runs at once, in place of the active Job.
    const cj = await cronJob();
    await cluster.client.update("cronjobs.batch", {
      ...cj,
      spec: { ...cj.spec!, concurrencyPolicy: "Replace" },
    });
    await jobsWhen((n) => n.join() === name(), "the replacing job alone");
    advanceToMark(1);
    await jobsWhen((n) => n.join() === name(), "the next replacing job alone");
    const active = await waitFor(async () => {
      const a = (await cronJob()).status?.active?.map((r) => r.name);
      return a?.join() === name() ? a : undefined;
    });
    expect(active).toEqual([name()]);
  });

  test("suspend starts nothing", async () => {
    await start({ suspend: true });
    t += 3 * FIVE_MIN;
    await reconcile();
    expect(await jobs()).toEqual([]);
  });

  test("history limits: older finished Jobs are deleted", async () => {
    await start({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 });
    advanceToMark(1);
    const [first] = await jobsWhen((n) => n.length === 1, "first job");
    await finishPods();
    await waitFinished(first!.metadata.name!);
    advanceToMark(1);
    const second = name();
    await jobsWhen((n) => n.includes(second), "second job");
    await finishPods();
    await waitFinished(second);
    await jobsWhen((n) => n.join() === second, "only the newest kept");
  });

  test("timeZone: the schedule is read in the zone and the annotation carries its offset", async () => {
    expect(formatInZone(Date.parse("2026-01-15T02:00:00Z"), "Europe/Berlin")).toBe(
      "2026-01-15T03:00:00+01:00",
    );
    expect(formatInZone(Date.parse("2026-07-15T02:00:00Z"), "America/New_York")).toBe(
      "2026-07-14T22:00:00-04:00",
    );
    expect(formatInZone(Date.parse("2026-07-15T02:00:00Z"), undefined)).toBe("2026-07-15T02:00:00Z");
    // 03:00 in Kolkata is 21:30 UTC the day before: the half-hour offset shows the zone is used.
    await start({ schedule: "0 3 * * *", timeZone: "Asia/Kolkata" });
    const next = new Date(t);
    next.setUTCHours(21, 30, 0, 0);
    if (next.getTime() <= t) next.setUTCDate(next.getUTCDate() + 1);
    t = next.getTime() + 1_000;
    cluster.manager.controllers.cronjob!.enqueue("default/tick");
    const [job] = await jobsWhen((n) => n.length === 1, "a job");
    expect(job!.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]).toEndWith(
      "T03:00:00+05:30",
    );
  });
});
