import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../core/object.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;
type P = Pod & KubeObject;

const jobYaml = `apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 2
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: "busybox:1.36", command: [sh, -c, "echo 3.14159"]}]
`;

const cronJobYaml = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  jobTemplate:
    metadata: {labels: {app: nightly}}
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: backup, image: "busybox:1.36", command: [sh, -c, "echo backed up"]}]
`;

/** The node agent's part: the job's pods print their line and exit 0. */
async function runPods(selector: string, line: string): Promise<void> {
  const pods = await waitFor(
    async () => {
      const items = (await c.client.list<P>("pods", { namespace: "default", labelSelector: selector })).items;
      const running = items.filter((p) => p.status?.phase === "Running");
      return running.length && running.length === items.length ? running : undefined;
    },
    { what: `running pods of ${selector}` },
  );
  for (const p of pods) {
    c.node.logLines.set(`default/${p.metadata.name}/${p.spec!.containers[0]!.name}`, [line]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await c.client.updateStatus("pods", {
      ...p,
      metadata: { ...p.metadata, resourceVersion: undefined },
      status: {
        ...p.status,
        phase: "Succeeded",
        containerStatuses: p.status?.containerStatuses?.map((s) => ({
          ...s,
          ready: false,
          state: { terminated: { exitCode: 0, reason: "Completed", finishedAt: now } },
        })),
      },
    } as KubeObject);
  }
}

describe.skipIf(skipUnless(hasKubectl, "kubectl batch", "needs /usr/bin/kubectl"))("kubectl batch/v1", () => {
  beforeAll(async () => {
    c = await startCluster();
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("a Job: apply, get, wait --for=condition=complete, logs job/NAME, describe, explain", async () => {
    c.write("job.yaml", jobYaml);
    expect((await c.kubectl(["apply", "-f", "job.yaml"])).stdout).toBe("job.batch/pi created\n");
    const running = await c.kubectl(["get", "jobs"]);
    expect(running.stdout).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\npi\s+Running\s+0\/2\s+/);
    await runPods("batch.kubernetes.io/job-name=pi", "3.14159");
    const wait = await c.kubectl(["wait", "--for=condition=complete", "job/pi", "--timeout=20s"]);
    expect(wait).toMatchObject({ code: 0, stdout: "job.batch/pi condition met\n" });
    expect((await c.kubectl(["get", "job", "pi"])).stdout).toMatch(/\npi\s+Complete\s+2\/2\s+\d+s\s+/);
    const logs = await c.kubectl(["logs", "job/pi"]);
    expect(logs).toMatchObject({ code: 0, stdout: "3.14159\n" });
    const describe = await c.kubectl(["describe", "job", "pi"]);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/Completions:\s+2/);
    expect(describe.stdout).toMatch(/Pods Statuses:\s+0 Active .* 2 Succeeded \/ 0 Failed/);
    const explain = await c.kubectl(["explain", "job.spec.backoffLimit"]);
    expect(explain.stdout).toContain("backoffLimit");
    // Re-applying the unchanged manifest is a no-op, although the selector was generated.
    expect((await c.kubectl(["apply", "-f", "job.yaml"])).stdout).toBe("job.batch/pi unchanged\n");
  });

  test("kubectl create job and create cronjob (protobuf bodies)", async () => {
    const job = await c.kubectl(["create", "job", "once", "--image=busybox:1.36", "--", "echo", "hi"]);
    expect(job).toMatchObject({ code: 0, stdout: "job.batch/once created\n" });
    const created = await c.client.get("jobs.batch", "default", "once");
    expect(
      (created.spec as { template: { spec: { restartPolicy: string } } }).template.spec.restartPolicy,
    ).toBe("Never");
    const cron = await c.kubectl([
      "create",
      "cronjob",
      "hello",
      "--image=busybox:1.36",
      "--schedule=*/5 * * * *",
    ]);
    expect(cron).toMatchObject({ code: 0, stdout: "cronjob.batch/hello created\n" });
    const bad = await c.kubectl(["create", "cronjob", "nope", "--image=busybox:1.36", "--schedule=*/5 * *"]);
    expect(bad.stderr).toContain("spec.schedule: Invalid value");
    expect((await c.kubectl(["delete", "job/once", "cronjob/hello"])).code).toBe(0);
  });

  test("bad input is a 422 naming the field", async () => {
    c.write(
      "bad.yaml",
      jobYaml.replace("name: pi", "name: bad").replace("completions: 2", "completions: -1"),
    );
    const r = await c.kubectl(["apply", "-f", "bad.yaml"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.completions: Invalid value: -1: must be greater than or equal to 0");
    c.write(
      "badcron.yaml",
      cronJobYaml.replace("name: nightly", "name: badcron").replace("0 3 * * *", "0 3 * *"),
    );
    const r2 = await c.kubectl(["apply", "-f", "badcron.yaml"]);
    expect(r2.stderr).toContain('spec.schedule: Invalid value: "0 3 * *"');
  });

  test("a CronJob: get columns, and create job --from=cronjob/X completes", async () => {
    c.write("cron.yaml", cronJobYaml);
    expect((await c.kubectl(["apply", "-f", "cron.yaml"])).stdout).toBe("cronjob.batch/nightly created\n");
    const get = await c.kubectl(["get", "cj"]);
    expect(get.stdout).toMatch(
      /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nnightly\s+0 3 \* \* \*\s+Europe\/Berlin\s+False\s+0\s+<none>\s+/,
    );
    const create = await c.kubectl(["create", "job", "manual-1", "--from=cronjob/nightly"]);
    expect(create).toMatchObject({ code: 0, stdout: "job.batch/manual-1 created\n" });
    const job = await c.client.get("jobs.batch", "default", "manual-1");
    expect(job.metadata.annotations?.["cronjob.kubernetes.io/instantiate"]).toBe("manual");
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", name: "nightly" });
    await runPods("batch.kubernetes.io/job-name=manual-1", "backed up");
    const wait = await c.kubectl(["wait", "--for=condition=complete", "job/manual-1", "--timeout=20s"]);
    expect(wait.code).toBe(0);
    expect((await c.kubectl(["logs", "job/manual-1"])).stdout).toBe("backed up\n");
    const describe = await c.kubectl(["describe", "cronjob", "nightly"]);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/Schedule:\s+0 3 \* \* \*/);
    const all = await c.kubectl(["get", "all"]);
    expect(all.stdout).toContain("cronjob.batch/nightly");
    expect(all.stdout).toContain("job.batch/manual-1");
    // Deleting the CronJob collects its Job and the Job's pod.
    expect((await c.kubectl(["delete", "cronjob", "nightly"])).code).toBe(0);
    await waitFor(async () => !(await c.client.tryGet("jobs.batch", "default", "manual-1")), {
      what: "job gone",
    });
    await waitFor(
      async () =>
        (await c.client.list("pods", { namespace: "default", labelSelector: "job-name=manual-1" })).items
          .length === 0,
      { what: "pods gone" },
    );
  });
});
