import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../object.ts";
import { printerFor } from "./index.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString().replace(".000", "");

const job = (
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  meta: Record<string, unknown> = {},
) =>
  ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", creationTimestamp: ago(300), ...meta },
    spec: {
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } },
      template: { spec: { containers: [{ name: "pi", image: "perl:5.34" }] } },
      ...spec,
    },
    status,
  }) as unknown as KubeObject;

const row = (obj: KubeObject, resource: string) => printerFor(resource).cells(obj, NOW);

describe("Job table", () => {
  test("columns as kubectl 1.32 prints them", () => {
    expect(printerFor("jobs.batch").columns.map((c) => `${c.name}${c.priority ? "*" : ""}`)).toEqual([
      "Name",
      "Status",
      "Completions",
      "Duration",
      "Age",
      "Containers*",
      "Images*",
      "Selector*",
    ]);
  });

  test("STATUS, COMPLETIONS and DURATION", () => {
    const cond = (type: string) => ({ conditions: [{ type, status: "True" }] });
    expect(row(job({ completions: 3 }, { succeeded: 1, startTime: ago(65) }), "jobs.batch")).toEqual([
      "pi",
      "Running",
      "1/3",
      "65s",
      "5m",
      "pi",
      "perl:5.34",
      "batch.kubernetes.io/controller-uid=u1",
    ]);
    const done = job(
      { completions: 3 },
      { succeeded: 3, startTime: ago(200), completionTime: ago(20), ...cond("Complete") },
    );
    expect(row(done, "jobs.batch").slice(1, 4)).toEqual(["Complete", "3/3", "3m"]);
    expect(row(job({ parallelism: 4 }, {}), "jobs.batch").slice(1, 4)).toEqual(["Running", "0/1 of 4", ""]);
    expect(row(job({ parallelism: 1 }, cond("Failed")), "jobs.batch")[1]).toBe("Failed");
    expect(row(job({}, cond("Suspended")), "jobs.batch")[1]).toBe("Suspended");
    expect(row(job({}, cond("FailureTarget")), "jobs.batch")[1]).toBe("FailureTarget");
    expect(row(job({}, cond("SuccessCriteriaMet")), "jobs.batch")[1]).toBe("SuccessCriteriaMet");
    expect(row(job({}, {}, { deletionTimestamp: ago(1) }), "jobs.batch")[1]).toBe("Terminating");
  });
});

describe("CronJob table", () => {
  const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    ({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly", creationTimestamp: ago(7200) },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: { spec: { template: { spec: { containers: [{ name: "b", image: "busybox" }] } } } },
        ...spec,
      },
      status,
    }) as unknown as KubeObject;

  test("NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE", () => {
    expect(
      printerFor("cronjobs.batch")
        .columns.filter((c) => !c.priority)
        .map((c) => c.name),
    ).toEqual(["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"]);
    expect(row(cj({ suspend: false }), "cronjobs.batch")).toEqual([
      "nightly",
      "0 3 * * *",
      "<none>",
      "False",
      0,
      "<none>",
      "120m",
      "b",
      "busybox",
      "<none>",
    ]);
    const busy = cj(
      { timeZone: "Europe/Berlin", suspend: true },
      { active: [{ name: "nightly-1" }], lastScheduleTime: ago(90) },
    );
    expect(row(busy, "cronjobs.batch").slice(2, 6)).toEqual(["Europe/Berlin", "True", 1, "90s"]);
    expect(row(cj({}), "cronjobs.batch")[3]).toBe("<unset>");
  });
});
