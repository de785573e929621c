import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, kubectl as kubectlOn, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e batch", "needs root and crun") ||
  skipUnless(!!testImages, "e2e batch", testImagesMissing) ||
  skipUnless(Bun.which("kubectl") !== null, "e2e batch", "needs /usr/bin/kubectl");

const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;

/** A Job of busybox running `script` (restartPolicy Never), with `spec` lines of its own. */
const jobYaml = (name: string, spec: string, container: string, script: string) => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec}  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: ${container}
        image: ${busybox()}
        command: [sh, -c, "${script}"]
`;

const manifests =
  () => `${jobYaml("pi", "  completions: 3\n  parallelism: 2\n", "pi", "echo pi is 3.14159")}---
${jobYaml("indexed", "  completionMode: Indexed\n  completions: 2\n  parallelism: 2\n", "worker", "echo index=$JOB_COMPLETION_INDEX host=$(hostname)")}---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 1 1 *"
  timeZone: Europe/Berlin
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          terminationGracePeriodSeconds: 1
          containers:
          - name: backup
            image: ${busybox()}
            command: [sh, -c, "echo backup done"]
`;

const everyMinute = () => `apiVersion: batch/v1
kind: CronJob
metadata: {name: minutely}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: tick
            image: ${busybox()}
            command: [sh, -c, "echo tick"]
`;

/**
 * Issue 12's Done-when for Jobs, on real containers through the compiled binary: a Job of 3
 * completions at parallelism 2 completes and `kubectl logs job/NAME` shows its output; an Indexed
 * Job's pods see their JOB_COMPLETION_INDEX and hostname; a Job created from a CronJob completes;
 * deleting them leaves no pods.
 */
describe.skipIf(skip)("compiled binary: Jobs and CronJobs", () => {
  let d: Daemon;
  let dataDir: string;

  const kubectl = (...args: string[]) => kubectlOn(dataDir, args);

  beforeAll(async () => {
    dataDir = nodeDataDir("batch");
    d = await startDaemon([], dataDir);
    writeFileSync(join(dataDir, "batch.yaml"), manifests());
    writeFileSync(join(dataDir, "minutely.yaml"), everyMinute());
    const applied = await kubectl(
      "apply",
      "-f",
      join(dataDir, "batch.yaml"),
      "-f",
      join(dataDir, "minutely.yaml"),
    );
    expect(applied.stderr).toBe("");
  }, 60_000);
  afterAll(async () => {
    if (d) await d.stop();
    removeDir(dataDir);
  }, 60_000);

  test("a Job of 3 completions at parallelism 2 completes and kubectl logs job/pi shows its output", async () => {
    const wait = await kubectl("wait", "--for=condition=complete", "job/pi", "--timeout=90s");
    expect(wait.stdout).toBe("job.batch/pi condition met\n");
    const job = await d.getJson(["job", "pi"]);
    expect(job.status).toMatchObject({ succeeded: 3, ready: 0 });
    expect(job.status.conditions.map((c: { type: string }) => c.type)).toEqual([
      "SuccessCriteriaMet",
      "Complete",
    ]);
    const pods = (await d.getJson(["pods", "-l", "job-name=pi"])).items;
    expect(pods.map((p: { status: { phase: string } }) => p.status.phase)).toEqual([
      "Succeeded",
      "Succeeded",
      "Succeeded",
    ]);
    // Never more than 2 at once: the third pod started after one of the first two finished.
    const times = pods
      .map(
        (p: {
          status: {
            containerStatuses: { state: { terminated: { startedAt: string; finishedAt: string } } }[];
          };
        }) => ({
          start: Date.parse(p.status.containerStatuses[0]!.state.terminated.startedAt),
          end: Date.parse(p.status.containerStatuses[0]!.state.terminated.finishedAt),
        }),
      )
      .sort((a: { start: number }, b: { start: number }) => a.start - b.start);
    expect(times[2].start).toBeGreaterThanOrEqual(Math.min(times[0].end, times[1].end));
    const logs = await kubectl("logs", "job/pi");
    expect(logs).toMatchObject({ code: 0, stdout: "pi is 3.14159\n" });
    const get = await d.minik(["get", "jobs"]);
    expect(get.stdout).toMatch(/pi\s+Complete\s+3\/3\s+/);
    const describe = await d.minik(["describe", "job", "pi"]);
    expect(describe.stdout).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed/);
    expect(describe.stdout).toMatch(
      /Conditions:\s+\n\s+Type\s+Status\s+Reason\n\s+SuccessCriteriaMet\s+True\s+CompletionsReached/,
    );
  }, 120_000);

  test("an Indexed Job's pods see JOB_COMPLETION_INDEX and their hostname", async () => {
    expect((await kubectl("wait", "--for=condition=complete", "job/indexed", "--timeout=90s")).code).toBe(0);
    const logs = await kubectl("logs", "-l", "batch.kubernetes.io/job-name=indexed");
    expect(logs.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "index=0 host=indexed-0",
      "index=1 host=indexed-1",
    ]);
    expect((await d.getJson(["job", "indexed"])).status.completedIndexes).toBe("0-1");
  }, 120_000);

  test("job tracking: a Job whose finished pods are force-deleted still completes with succeeded 2, failed 0", async () => {
    const job = jobYaml("tracked", "  completions: 2\n", "work", "sleep 1; echo done");
    const applied = await kubectlOn(dataDir, ["apply", "-f", "-"], job);
    expect(applied.stdout).toBe("job.batch/tracked created\n");
    type Pod = { metadata: { name: string; finalizers?: string[] }; status: { phase: string } };
    const seen = new Set<string>();
    const deleted = new Set<string>();
    // Each pod carries the finalizer while it runs; once it has succeeded it is force-deleted at once.
    await waitFor(
      async () => {
        for (const p of (await d.getJson(["pods", "-l", "job-name=tracked"])).items as Pod[]) {
          if (
            p.status.phase === "Running" &&
            p.metadata.finalizers?.includes("batch.kubernetes.io/job-tracking")
          )
            seen.add(p.metadata.name);
          if (p.status.phase !== "Succeeded" || deleted.has(p.metadata.name)) continue;
          deleted.add(p.metadata.name);
          await kubectl("delete", "pod", p.metadata.name, "--force", "--grace-period=0");
        }
        return deleted.size === 2;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "two succeeded pods force-deleted" },
    );
    expect(seen.size).toBeGreaterThan(0);
    expect((await kubectl("wait", "--for=condition=complete", "job/tracked", "--timeout=60s")).code).toBe(0);
    const status = (await d.getJson(["job", "tracked"])).status;
    expect(status).toMatchObject({ succeeded: 2, uncountedTerminatedPods: {} });
    expect(status.failed).toBeUndefined();
    // Counted, the deleted pods were let go: none is left hanging on the finalizer.
    await waitFor(async () => (await d.getJson(["pods", "-l", "job-name=tracked"])).items.length === 0, {
      timeoutMs: 30_000,
      what: "force-deleted pods removed",
    });
    expect((await kubectl("delete", "job", "tracked")).code).toBe(0);
  }, 150_000);

  test("Indexed policies on real pods: a failing index fails alone (FailedIndexes); a successPolicy ends the rest", async () => {
    const perIndex = jobYaml(
      "per-index",
      "  completionMode: Indexed\n  completions: 3\n  parallelism: 3\n  backoffLimitPerIndex: 0\n",
      "work",
      "test $JOB_COMPLETION_INDEX != 1",
    );
    const success = jobYaml(
      "first-wins",
      "  completionMode: Indexed\n  completions: 3\n  parallelism: 3\n  successPolicy:\n    rules:\n    - succeededIndexes: '0'\n",
      "work",
      "test $JOB_COMPLETION_INDEX = 0 || exec sleep 3600",
    );
    expect((await kubectlOn(dataDir, ["apply", "-f", "-"], `${perIndex}---\n${success}`)).code).toBe(0);
    const failed = await kubectl("wait", "--for=condition=failed", "job/per-index", "--timeout=90s");
    expect(failed.code).toBe(0);
    const status = (await d.getJson(["job", "per-index"])).status;
    expect(status).toMatchObject({ failedIndexes: "1", completedIndexes: "0,2", failed: 1, succeeded: 2 });
    expect(status.conditions.find((c: { type: string }) => c.type === "Failed").reason).toBe("FailedIndexes");

    expect((await kubectl("wait", "--for=condition=complete", "job/first-wins", "--timeout=90s")).code).toBe(
      0,
    );
    const won = (await d.getJson(["job", "first-wins"])).status;
    expect(won).toMatchObject({ completedIndexes: "0", succeeded: 1 });
    expect(won.conditions.map((c: { type: string; reason: string }) => [c.type, c.reason])).toEqual([
      ["SuccessCriteriaMet", "SuccessPolicy"],
      ["Complete", "SuccessPolicy"],
    ]);
    // The sleeping indexes were stopped, not left running.
    const pods = (await d.getJson(["pods", "-l", "job-name=first-wins"])).items as {
      status: { phase: string };
    }[];
    expect(pods.filter((p) => p.status.phase === "Running")).toEqual([]);
    expect((await kubectl("delete", "job", "per-index", "first-wins")).code).toBe(0);
  }, 150_000);

  test("kubectl create job --from=cronjob/nightly completes; deleting the manifests collects their Jobs", async () => {
    const created = await kubectl("create", "job", "nightly-manual", "--from=cronjob/nightly");
    expect(created.stdout).toBe("job.batch/nightly-manual created\n");
    expect(
      (await kubectl("wait", "--for=condition=complete", "job/nightly-manual", "--timeout=90s")).code,
    ).toBe(0);
    expect((await kubectl("logs", "job/nightly-manual")).stdout).toBe("backup done\n");
    const cron = await d.minik(["get", "cronjobs"]);
    expect(cron.stdout).toMatch(/nightly\s+0 3 1 1 \*\s+Europe\/Berlin\s+False\s+0\s+<none>\s+/);

    expect((await kubectl("delete", "-f", join(dataDir, "batch.yaml"))).code).toBe(0);
    const others = async () =>
      (await d.getJson(["jobs"])).items.filter(
        (j: { metadata: { name: string } }) => !j.metadata.name.startsWith("minutely-"),
      );
    await waitFor(async () => (await others()).length === 0, {
      timeoutMs: 30_000,
      what: "jobs collected",
    });
  }, 150_000);

  test("a CronJob on '* * * * *' starts a Job at the next minute that completes; deleting it leaves nothing", async () => {
    const cj = await waitFor(
      async () => {
        const x = await d.getJson(["cronjob", "minutely"]);
        return x.status?.lastSuccessfulTime ? x : undefined;
      },
      { timeoutMs: 100_000, intervalMs: 500, what: "a scheduled run to complete" },
    );
    expect(cj.status.lastScheduleTime).toMatch(/:00Z$/);
    const jobs = (await d.getJson(["jobs"])).items;
    const name = `minutely-${Date.parse(cj.status.lastScheduleTime) / 60_000}`;
    expect(jobs.map((j: { metadata: { name: string } }) => j.metadata.name)).toContain(name);
    expect((await kubectl("logs", `job/${name}`)).stdout).toBe("tick\n");
    expect((await kubectl("delete", "cronjob", "minutely")).code).toBe(0);
    await waitFor(async () => (await d.getJson(["jobs"])).items.length === 0, {
      timeoutMs: 30_000,
      what: "jobs collected",
    });
    await waitFor(async () => (await d.getJson(["pods"])).items.length === 0, {
      timeoutMs: 60_000,
      what: "pods collected",
    });
  }, 120_000);
});
