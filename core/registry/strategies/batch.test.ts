import { describe, expect, test } from "bun:test";
import type { CronJob, Job } from "kubernetes-types/batch/v1";
import { cronJobManifest, jobManifest } from "../../controllers/testing/batch-manifests.ts";
import type { KubeObject } from "../../object.ts";
import { errorOf, useRegistry } from "../testing/test-fixture.ts";

const fx = useRegistry();

type J = Job & KubeObject;
type CJ = CronJob & KubeObject;

describe("Job strategy", () => {
  test("generates the selector and labels from the uid, and fills the defaults", async () => {
    const job = (await fx.registry.create("jobs.batch", jobManifest("pi"))) as J;
    const uid = job.metadata!.uid!;
    expect(job.spec!.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
    const labels = {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": uid,
      "job-name": "pi",
    };
    expect(job.spec!.template.metadata!.labels).toEqual(labels);
    expect(job.metadata!.labels).toEqual(labels);
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      suspend: false,
      podReplacementPolicy: "TerminatingOrFailed",
    });
    expect(job.spec!.template.spec!.terminationGracePeriodSeconds).toBe(30);
    expect(job.status).toBeUndefined();
  });

  test("a work queue (parallelism only) keeps completions unset", async () => {
    const job = (await fx.registry.create("jobs.batch", jobManifest("q", { parallelism: 3 }))) as J;
    expect(job.spec!.completions).toBeUndefined();
    expect(job.spec!.parallelism).toBe(3);
  });

  test("negative counts, restartPolicy Always and Indexed without completions are 422s naming the field", async () => {
    const e = await errorOf(
      fx.registry.create(
        "jobs.batch",
        jobManifest("bad", { completions: -1, parallelism: -2, backoffLimit: -1 }),
      ),
    );
    expect(e.code).toBe(422);
    expect(e.message).toContain("spec.completions: Invalid value: -1: must be greater than or equal to 0");
    expect(e.message).toContain("spec.parallelism: Invalid value: -2");
    expect(e.message).toContain("spec.backoffLimit: Invalid value: -1");

    const always = jobManifest("always");
    (always.spec as { template: { spec: { restartPolicy?: string } } }).template.spec.restartPolicy =
      undefined;
    const e2 = await errorOf(fx.registry.create("jobs.batch", always));
    expect(e2.details?.causes?.[0]).toMatchObject({
      field: "spec.template.spec.restartPolicy",
      message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
    });

    const e3 = await errorOf(
      fx.registry.create(
        "jobs.batch",
        jobManifest("idx", { completionMode: "Indexed", completions: undefined, parallelism: 2 }),
      ),
    );
    expect(e3.details?.causes?.map((c) => c.field)).toEqual(["spec.completions"]);
    expect(await fx.registry.tryGet("jobs.batch", "default", "bad")).toBeUndefined();
  });

  test("the pod template and completions are immutable", async () => {
    const job = (await fx.registry.create("jobs.batch", jobManifest("pi", { completions: 2 }))) as J;
    const changed = structuredClone(job);
    changed.spec!.template.spec!.containers[0]!.image = "busybox:1.37";
    const e = await errorOf(fx.registry.update("jobs.batch", changed as KubeObject));
    expect(e.code).toBe(422);
    expect(e.details?.causes?.[0]?.field).toBe("spec.template");
    expect(e.details?.causes?.[0]?.message).toEndWith("field is immutable");
    const more = structuredClone(job);
    more.spec!.completions = 5;
    expect(
      (await errorOf(fx.registry.update("jobs.batch", more as KubeObject))).details?.causes?.[0]?.field,
    ).toBe("spec.completions");
    // suspend and activeDeadlineSeconds may change.
    const suspended = structuredClone(job);
    suspended.spec!.suspend = true;
    suspended.spec!.activeDeadlineSeconds = 60;
    const updated = (await fx.registry.update("jobs.batch", suspended as KubeObject)) as J;
    expect(updated.spec!.suspend).toBe(true);
  });

  test("podFailurePolicy needs restartPolicy Never and a valid rule", async () => {
    const e = await errorOf(
      fx.registry.create(
        "jobs.batch",
        jobManifest("pfp", {
          podFailurePolicy: { rules: [{ action: "Explode", onExitCodes: { operator: "In", values: [0] } }] },
        }),
      ),
    );
    expect(e.details?.causes?.map((c) => c.field)).toEqual([
      "spec.podFailurePolicy.rules[0].action",
      "spec.podFailurePolicy.rules[0].onExitCodes.values[0]",
    ]);
  });

  test("backoffLimitPerIndex, maxFailedIndexes and successPolicy are checked as upstream words them", async () => {
    const messages = async (spec: Record<string, unknown>) =>
      (await errorOf(fx.registry.create("jobs.batch", jobManifest("bad", spec)))).details?.causes?.map(
        (c) => `${c.field}: ${c.message}`,
      );
    expect(await messages({ backoffLimitPerIndex: 1, maxFailedIndexes: 1 })).toEqual([
      "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
      "spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode",
    ]);
    const indexed = { completionMode: "Indexed", completions: 5 };
    expect(await messages({ ...indexed, maxFailedIndexes: 6 })).toEqual([
      "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
      "spec.maxFailedIndexes: Invalid value: 6: must be less than or equal to completions",
    ]);
    expect(await messages({ successPolicy: { rules: [{ succeededCount: 1 }] } })).toEqual([
      'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode',
    ]);
    expect(
      await messages({
        ...indexed,
        successPolicy: {
          rules: [
            {},
            { succeededIndexes: "invalid-format" },
            { succeededCount: 6 },
            { succeededIndexes: "0-2", succeededCount: 4 },
          ],
        },
      }),
    ).toEqual([
      "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified",
      'spec.successPolicy.rules[1].succeededIndexes: Invalid value: "invalid-format": error parsing succeededIndexes: cannot convert string to integer for index: "invalid"',
      "spec.successPolicy.rules[2].succeededCount: Invalid value: 6: must be less than or equal to 5 (the number of specified completions)",
      "spec.successPolicy.rules[3].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number of indexes in the specified succeededIndexes field)",
    ]);
    expect(await messages({ ...indexed, successPolicy: { rules: [] } })).toEqual([
      "spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified",
    ]);
    const failIndex = { rules: [{ action: "FailIndex", onExitCodes: { operator: "In", values: [42] } }] };
    expect(await messages({ ...indexed, podFailurePolicy: failIndex })).toEqual([
      "spec.podFailurePolicy.rules[0].action: Forbidden: requires the backoffLimitPerIndex to be set",
    ]);
    // Valid: defaults make the global backoffLimit unlimited; the policies are immutable.
    const ok = await fx.registry.create<KubeObject>(
      "jobs.batch",
      jobManifest("ok", {
        ...indexed,
        backoffLimitPerIndex: 1,
        maxFailedIndexes: 2,
        podFailurePolicy: failIndex,
      }),
    );
    const spec = (ok as J).spec!;
    expect(spec.backoffLimit).toBe(2_147_483_647);
    const changed = await errorOf(
      fx.registry.update("jobs.batch", { ...ok, spec: { ...spec, backoffLimitPerIndex: 2 } }),
    );
    expect(changed.details?.causes?.map((c) => c.field)).toEqual(["spec.backoffLimitPerIndex"]);
  });
});

describe("CronJob strategy", () => {
  test("fills the defaults and keeps the job template undefaulted but its pods", async () => {
    const cj = (await fx.registry.create("cronjobs.batch", cronJobManifest("nightly"))) as CJ;
    expect(cj.spec).toMatchObject({
      concurrencyPolicy: "Allow",
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    expect(cj.spec!.jobTemplate.spec!.backoffLimit).toBeUndefined();
    expect(cj.spec!.jobTemplate.spec!.template.spec!.dnsPolicy).toBe("ClusterFirst");
  });

  test("macros and time zones are accepted", async () => {
    for (const [i, schedule] of [
      "@hourly",
      "@daily",
      "0 3 * * 1-5",
      "*/15 * * * *",
      "@every 1h30m",
    ].entries()) {
      await fx.registry.create(
        "cronjobs.batch",
        cronJobManifest(`ok-${i}`, { schedule, timeZone: "Europe/Berlin" }),
      );
    }
  });

  test("invalid schedules, time zones and policies are 422s naming the field; nothing is created", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ schedule: "not a schedule" }, "spec.schedule"],
      [{ schedule: "0 0 * * * *" }, "spec.schedule"],
      [{ schedule: "61 * * * *" }, "spec.schedule"],
      [{ schedule: "@sometimes" }, "spec.schedule"],
      [{ schedule: "TZ=UTC 0 * * * *" }, "spec.schedule"],
      [{ timeZone: "Mars/Olympus" }, "spec.timeZone"],
      [{ concurrencyPolicy: "Sometimes" }, "spec.concurrencyPolicy"],
      [{ startingDeadlineSeconds: -5 }, "spec.startingDeadlineSeconds"],
    ];
    for (const [spec, field] of cases) {
      const e = await errorOf(fx.registry.create("cronjobs.batch", cronJobManifest("bad", spec)));
      expect(`${e.code} ${e.details?.causes?.[0]?.field}`).toBe(`422 ${field}`);
    }
    const long = await errorOf(fx.registry.create("cronjobs.batch", cronJobManifest("x".repeat(53))));
    expect(long.details?.causes?.[0]?.field).toBe("metadata.name");
    expect((await fx.registry.list("cronjobs.batch", {})).items).toEqual([]);
  });
});
