import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import {
  BINARY,
  type Daemon,
  kubectl as kubectlOn,
  nodeDataDir,
  removeDir,
  startExclusive,
} from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e sidecars", "needs root and crun") ||
  skipUnless(!!testImages, "e2e sidecars", testImagesMissing) ||
  skipUnless(Bun.which("kubectl") !== null, "e2e sidecars", "needs /usr/bin/kubectl");

const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;

/** A Job whose pod has a log-shipper sidecar that would run forever, and a worker that ends. */
const job = () => `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      initContainers:
      - name: shipper
        image: ${busybox()}
        restartPolicy: Always
        command: [sh, -c, "echo shipper up; trap 'echo shipper stopping; exit 0' TERM; while true; do sleep 1; done"]
      containers:
      - name: worker
        image: ${busybox()}
        command: [sh, -c, "echo migrated"]
`;

/** A Deployment whose pod is Ready only when its sidecar is (the sidecar's file decides). */
const deployment = () => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      initContainers:
      - name: proxy
        image: ${busybox()}
        restartPolicy: Always
        command: [sh, -c, "echo proxy up; while [ ! -f /tmp/stop ]; do sleep 1; done; exit 1"]
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: 1
      containers:
      - name: app
        image: ${busybox()}
        command: [sh, -c, "exec sleep 3600"]
        readinessProbe:
          exec: {command: ["true"]}
          periodSeconds: 1
`;

/**
 * Issue 12's native sidecars on real containers through the compiled binary: a Job whose app
 * container exits completes although its sidecar would run forever (the sidecar's log shows it ran
 * and was stopped); a Deployment's pod is Ready only once both its app container and its sidecar
 * are (kubectl shows 2/2), and a sidecar that ends is restarted alone while the app keeps running;
 * invalid sidecar specs are refused naming the field.
 */
describe.skipIf(skip)("compiled binary: native sidecars", () => {
  let d: Daemon;
  let dataDir: string;
  const kubectl = (...args: string[]) => kubectlOn(dataDir, args);
  const apply = (yaml: string) => kubectlOn(dataDir, ["apply", "-f", "-"], yaml);
  const podOf = async (selector: string) =>
    JSON.parse((await kubectl("get", "pods", "-l", selector, "-o", "json")).stdout).items[0];
  const readyOf = (pod: { status?: { conditions?: { type: string; status: string; message?: string }[] } }) =>
    pod?.status?.conditions?.find((c) => c.type === "Ready");

  beforeAll(async () => {
    dataDir = nodeDataDir("sidecars");
    d = await startExclusive(dataDir);
  }, 300_000);
  afterAll(async () => {
    if (d) {
      await kubectl("delete", "job", "migrate", "--ignore-not-found", "--wait=false");
      await kubectl("delete", "deployment", "web", "--ignore-not-found", "--wait=false");
      await kubectl("delete", "pods", "--all", "--grace-period=0", "--force");
      await d.stop();
    }
    removeDir(dataDir);
  }, 90_000);

  test("a Job with a sidecar completes; the sidecar ran and was stopped after the worker", async () => {
    expect((await apply(job())).stderr).toBe("");
    const wait = await kubectl("wait", "--for=condition=complete", "job/migrate", "--timeout=90s");
    expect(wait.stdout).toBe("job.batch/migrate condition met\n");
    const pod = await podOf("job-name=migrate");
    expect(pod.status.phase).toBe("Succeeded");
    const shipper = pod.status.initContainerStatuses[0];
    expect(shipper.name).toBe("shipper");
    expect(shipper.state.terminated).toBeDefined();
    expect(pod.status.containerStatuses[0].state.terminated.exitCode).toBe(0);
    expect((await kubectl("logs", "job/migrate", "-c", "worker")).stdout).toBe("migrated\n");
    const shipperLog = (await kubectl("logs", "job/migrate", "-c", "shipper")).stdout;
    expect(shipperLog).toBe("shipper up\nshipper stopping\n");
  }, 120_000);

  test("a Deployment's pod is Ready only when its sidecar is ready too", async () => {
    expect((await apply(deployment())).stderr).toBe("");
    const pod = await waitFor(
      async () => {
        const p = await podOf("app=web");
        const app = p?.status?.containerStatuses?.[0];
        return app?.ready ? p : undefined;
      },
      { timeoutMs: 90_000, what: "the app container ready" },
    );
    const proxy = pod.status.initContainerStatuses[0];
    expect(proxy).toMatchObject({ name: "proxy", started: true, ready: false });
    expect(proxy.state.running).toBeDefined();
    expect(pod.status.phase).toBe("Running");
    expect(readyOf(pod)).toMatchObject({
      status: "False",
      message: "containers with unready status: [proxy]",
    });
    const name = pod.metadata.name;
    expect((await kubectl("exec", name, "-c", "proxy", "--", "touch", "/tmp/ready")).code).toBe(0);
    const ready = await waitFor(
      async () => {
        const p = await podOf("app=web");
        return readyOf(p)?.status === "True" ? p : undefined;
      },
      { timeoutMs: 30_000, what: "the pod Ready" },
    );
    expect(ready.status.initContainerStatuses[0]).toMatchObject({ ready: true, started: true });
    // kubectl's READY column counts the sidecar, as against a real cluster
    const row = (await kubectl("get", "pod", name, "--no-headers")).stdout.trim().split(/\s+/);
    expect(row.slice(1, 4)).toEqual(["2/2", "Running", "0"]);
    const rollout = await kubectl("rollout", "status", "deployment/web", "--timeout=30s");
    expect(rollout.stdout).toContain("successfully rolled out");

    // the sidecar ends: it is restarted on its own (a fresh one, not ready until its file is back),
    // the app container keeps running untouched
    const appID = ready.status.containerStatuses[0].containerID;
    expect((await kubectl("exec", name, "-c", "proxy", "--", "touch", "/tmp/stop")).code).toBe(0);
    const restarted = await waitFor(
      async () => {
        const p = await podOf("app=web");
        const proxy = p.status.initContainerStatuses[0];
        return proxy.restartCount === 1 && proxy.state.running ? p : undefined;
      },
      { timeoutMs: 60_000, what: "the sidecar restarted" },
    );
    expect(restarted.status.containerStatuses[0]).toMatchObject({ containerID: appID, restartCount: 0 });
    expect(restarted.status.phase).toBe("Running");
    expect(readyOf(restarted)?.status).toBe("False");
  }, 120_000);

  test("a sidecar-only field on a plain init container, or another restartPolicy, is refused naming the field", async () => {
    const bad = job()
      .replace("name: migrate", "name: bad")
      .replace("restartPolicy: Always", 'readinessProbe: {exec: {command: ["true"]}}');
    const refused = await apply(bad);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      "spec.template.spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
    );
    const never = await apply(
      job().replace("name: migrate", "name: bad").replace("restartPolicy: Always", "restartPolicy: Never"),
    );
    expect(never.stderr).toContain(
      'spec.template.spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    );
    expect((await kubectl("get", "job", "bad", "--ignore-not-found")).stdout).toBe("");
  }, 30_000);
});
