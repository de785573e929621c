import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { holderPidFile } from "../../runtime/crun/crun-namespace.ts";
import { dataLayout } from "../../runtime/crun/data-layout.ts";
import { DEFAULT_NETNS_PREFIX, shortId } from "../../runtime/net/pod-network.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, nodeDataDir, removeDir, startDaemon, unmountUnder } from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e lifecycle", "needs root and crun") ||
  skipUnless(!!testImages, "e2e lifecycle", testImagesMissing);

const deployment = (name: string, replicas: number, image: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: ${image}
${extra}`;

/**
 * Issue 5 on real containers: autoscaling on CPU, drain/uncordon, kill -9 of minik in the middle
 * of a rollout, and a simulated host reboot (containers and mounts gone, store kept).
 */
describe.skipIf(skip)("compiled binary: self-healing and operations", () => {
  let d: Daemon;
  let dataDir: string;
  const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;
  const httpd = (v: number) => `${testImages!.registries.plain.host}/minik-test/httpd:${v}`;
  const apply = (name: string, yaml: string) => d.apply(name, yaml);
  const pods = async (app: string) => (await d.getJson(["pods", "-l", `app=${app}`])).items as any[];
  const running = (list: any[]) =>
    list.filter((p) => p.status.phase === "Running" && !p.metadata.deletionTimestamp);
  /** Containers minik's runtime has on record as running. */
  const runningContainers = () =>
    readdirSync(join(dataDir, "containers"))
      .map((id) => JSON.parse(readFileSync(join(dataDir, "containers", id, "container.json"), "utf8")))
      .filter((c) => c.state === "running" && c.pid && existsSync(`/proc/${c.pid}`));

  beforeAll(async () => {
    dataDir = nodeDataDir("life");
    d = await startDaemon(["--hpa-sync-period", "1"], dataDir);
  }, 30_000);
  afterAll(async () => {
    if (d) {
      for (const name of ["burn", "web", "roll"])
        await d.minik(["delete", "deployment", name, "--ignore-not-found"]);
      await d.minik(["uncordon"]);
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("an HPA scales a CPU-burning deployment out, and back in once it is idle", async () => {
    await apply(
      "burn",
      deployment(
        "burn",
        1,
        busybox(),
        `        command: ["sh", "-c", "while true; do if [ -e /tmp/burn ]; then :; else sleep 0.2; fi; done"]
        resources:
          requests: {cpu: 100m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: burn
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: burn}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`,
      ),
    );
    const [first] = await waitFor(
      async () => {
        const r = running(await pods("burn"));
        return r.length === 1 ? r : undefined;
      },
      { timeoutMs: 30_000, what: "burn Running" },
    );
    expect((await d.minik(["exec", first.metadata.name, "--", "touch", "/tmp/burn"])).code).toBe(0);
    await waitFor(async () => (await pods("burn")).length === 3, {
      timeoutMs: 40_000,
      what: "scale out to 3",
    });
    const hpa = JSON.parse((await d.minik(["get", "hpa", "burn", "-o", "json"])).stdout);
    expect(hpa.status.desiredReplicas).toBe(3);
    expect((await d.minik(["exec", first.metadata.name, "--", "rm", "/tmp/burn"])).code).toBe(0);
    await waitFor(async () => running(await pods("burn")).length === 1 && (await pods("burn")).length === 1, {
      timeoutMs: 40_000,
      what: "scale back in to 1",
    });
    const events = await d.minik(["describe", "hpa", "burn"]);
    expect(events.stdout).toContain("SuccessfulRescale");
    await d.minik(["delete", "deployment", "burn"]);
  }, 120_000);

  test("drain evicts the node's pods and cordons it; a PodDisruptionBudget holds a drain back; uncordon lets pods back", async () => {
    await apply(
      "web",
      `${deployment("web", 2, httpd(1))}---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
`,
    );
    await waitFor(async () => running(await pods("web")).length === 2, {
      timeoutMs: 30_000,
      what: "web Running",
    });
    await waitFor(
      async () => {
        const pdb = JSON.parse((await d.minik(["get", "pdb", "web", "-o", "json"])).stdout);
        return pdb.status?.currentHealthy === 2;
      },
      { what: "PDB status" },
    );
    const blocked = await d.minik(["drain", "--timeout", "3"]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/disruption budget/);
    expect(running(await pods("web"))).toHaveLength(2);

    await d.minik(["delete", "pdb", "web"]);
    const drained = await d.minik(["drain", "--grace-period", "1", "--timeout", "60"]);
    expect(drained.stderr).toBe("");
    expect(drained.stdout).toContain("drained");
    const node = JSON.parse((await d.minik(["get", "nodes", "-o", "json"])).stdout).items[0];
    expect(node.spec.unschedulable).toBe(true);
    const pending = await waitFor(
      async () => {
        const list = await pods("web");
        return list.length === 2 && list.every((p) => p.status.phase === "Pending") ? list : undefined;
      },
      { what: "replacements Pending on the cordoned node" },
    );
    const cond = pending[0].status.conditions.find((c: any) => c.type === "PodScheduled");
    expect(cond.reason).toBe("Unschedulable");

    expect((await d.minik(["uncordon"])).code).toBe(0);
    await waitFor(async () => running(await pods("web")).length === 2, {
      timeoutMs: 30_000,
      what: "web back after uncordon",
    });
    await d.minik(["delete", "deployment", "web"]);
  }, 120_000);

  test("kill -9 of minik during a rollout: after minik up the rollout finishes and containers match the spec", async () => {
    await apply("roll", deployment("roll", 3, httpd(1)));
    expect((await d.minik(["rollout", "status", "deployment/roll", "--timeout", "60"])).code).toBe(0);
    expect((await d.minik(["set", "image", "deployment/roll", `main=${httpd(2)}`])).code).toBe(0);
    await waitFor(async () => (await pods("roll")).length > 3, { what: "the rollout under way" });
    await d.stop("SIGKILL");
    d = await startDaemon(["--hpa-sync-period", "1"], dataDir);
    const status = await d.minik(["rollout", "status", "deployment/roll", "--timeout", "90"]);
    expect(status.stdout).toContain("successfully rolled out");
    await waitFor(async () => (await pods("roll")).length === 3, {
      timeoutMs: 30_000,
      what: "old pods gone",
    });
    const list = running(await pods("roll"));
    expect(list.every((p) => p.spec.containers[0].image === httpd(2))).toBe(true);
    await waitFor(() => runningContainers().length === 3, {
      timeoutMs: 30_000,
      what: "exactly 3 running containers",
    });
  }, 180_000);

  test("after a host reboot (containers and mounts gone, store kept) the workload comes back by itself", async () => {
    const before = running(await pods("roll"))
      .map((p) => p.metadata.name)
      .sort();
    expect(before).toHaveLength(3);
    await d.stop("SIGKILL");
    // the reboot: every container process and every mount and network namespace minik made is gone
    for (const c of runningContainers()) process.kill(c.pid, "SIGKILL");
    unmountUnder(dataDir);
    // only the namespaces of this daemon's pods (their uids are this run's): another minik on the
    // host keeps its own
    const ours = readdirSync(join(dataDir, "pods")).map((uid) => `${DEFAULT_NETNS_PREFIX}${shortId(uid)}`);
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const name of ours) Bun.spawnSync(["ip", "netns", "delete", name]);
    const holder = holderPidFile(dataLayout(dataDir).runDir);
    if (existsSync(holder)) {
      try {
        process.kill(Number(readFileSync(holder, "utf8")), "SIGKILL");
      } catch {}
    }
    d = await startDaemon(["--hpa-sync-period", "1"], dataDir);
    await waitFor(
      async () => {
        const list = running(await pods("roll"));
        return list.length === 3 && list.every((p) => p.status.containerStatuses?.[0]?.ready);
      },
      { timeoutMs: 60_000, what: "the workload back after the reboot" },
    );
    for (const p of running(await pods("roll"))) {
      // ready without a readiness probe means started, not yet listening: ask until it answers
      const body = await waitFor(
        () =>
          fetch(`http://${p.status.podIP}/`).then(
            (r) => r.text(),
            () => undefined,
          ),
        { what: `pod ${p.status.podIP} answering` },
      );
      expect(body).toContain("v2");
    }
    expect(runningContainers()).toHaveLength(3);
  }, 120_000);
});
