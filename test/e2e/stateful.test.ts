import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing, testRegistriesYaml } from "../support/registry.ts";
import { BINARY, type Daemon, removeDir, startExclusive } from "./daemon.ts";

/**
 * Issue 12 (storage, StatefulSet, DaemonSet) through the compiled binary on real containers: a
 * 2-replica StatefulSet gets two Bound local-path claims, `db-0` deleted comes back as `db-0`
 * with the data it wrote (also after a minik restart), `db-0.db.<ns>.svc.cluster.local` resolves
 * from `db-1`, a DaemonSet runs one pod, and deleting everything leaves no volume directories,
 * pod directories or containers behind.
 */
const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e stateful", "needs root and crun") ||
  skipUnless(!!testImages, "e2e stateful", testImagesMissing);

const image = (name: string) => `${testImages!.registries.plain.host}/minik-test/${name}`;

const MANIFESTS = () => `apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {port: 80}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: db
        image: ${image("busybox:1")}
        command: ["sh", "-c", "test -f /data/id || echo \\"$(hostname)-$(date +%s)-$RANDOM\\" > /data/id; exec sleep 3600"]
        volumeMounts:
        - {name: data, mountPath: /data}
        readinessProbe:
          exec: {command: ["test", "-f", "/data/id"]}
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 16Mi}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: agent
        image: ${image("busybox:1")}
        command: ["sleep", "3600"]
`;

interface Obj {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec?: { volumeName?: string; hostPath?: { path: string } };
  status?: { phase?: string; conditions?: { type: string; status: string }[]; numberAvailable?: number };
}

const ready = (p: Obj) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Entries of a data-dir subdirectory (none when it does not exist). */
function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe.skipIf(skip)("compiled binary: StatefulSet with local-path storage, DaemonSet", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  const minik = (args: string[]) => d!.minik(args);
  const list = async (kind: string) => (await d!.getJson<{ items: Obj[] }>([kind])).items;
  const dataOf = async (pod: string) => {
    const r = await minik(["exec", pod, "--", "cat", "/data/id"]);
    if (r.code !== 0) throw new Error(`exec ${pod}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const podsReady = (names: string[]) =>
    waitFor(
      async () => {
        const pods = (await list("pods")).filter((p) => !p.metadata.deletionTimestamp);
        const want = pods.filter((p) => names.includes(p.metadata.name));
        return want.length === names.length && want.every(ready) ? want : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${names.join(", ")} ready` },
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "minik-e2e-stateful-"));
    writeFileSync(join(dataDir, "registries.yaml"), testRegistriesYaml());
    d = await startExclusive(dataDir);
  }, 300_000);

  afterAll(async () => {
    await d?.stop();
    removeDir(dataDir);
  });

  test("two Bound claims; db-0 comes back with its data; per-pod DNS; one daemon pod", async () => {
    await d!.apply("stateful", MANIFESTS());
    await podsReady(["db-0", "db-1"]);
    const claims = await waitFor(
      async () => {
        const c = await list("persistentvolumeclaims");
        return c.length === 2 && c.every((x) => x.status?.phase === "Bound") ? c : undefined;
      },
      { timeoutMs: 20_000, what: "two Bound claims" },
    );
    expect(claims.map((c) => c.metadata.name).sort()).toEqual(["data-db-0", "data-db-1"]);
    const volumes = await list("persistentvolumes");
    expect(
      volumes.map((v) => v.spec?.hostPath?.path?.startsWith(join(dataDir, "storage/"))).every(Boolean),
    ).toBe(true);
    expect(entries(join(dataDir, "storage")).length).toBe(2);
    const sc = await minik(["get", "storageclass"]);
    expect(sc.stdout).toContain("local-path (default)");

    const written = await dataOf("db-0");
    expect(written).toMatch(/^db-0-\d+-\d+$/);
    const before = (await list("pods")).find((p) => p.metadata.name === "db-0")!;
    expect((await minik(["delete", "pod", "db-0"])).code).toBe(0);
    await waitFor(
      async () => {
        const p = (await list("pods")).find((x) => x.metadata.name === "db-0");
        return p && p.metadata.uid !== before.metadata.uid && ready(p);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "db-0 back" },
    );
    expect(await dataOf("db-0")).toBe(written);

    const dns = await minik(["exec", "db-1", "--", "nslookup", "db-0.db.default.svc.cluster.local"]);
    const ip = (await list("pods")).find((p) => p.metadata.name === "db-0") as Obj & {
      status: { podIP: string };
    };
    expect(dns.stdout).toContain(`Address: ${ip.status.podIP}`);

    const agent = await waitFor(
      async () => {
        const pods = (await list("pods")).filter((p) => p.metadata.name.startsWith("agent-"));
        return pods.length === 1 && ready(pods[0]!) ? pods : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "one daemon pod" },
    );
    expect(agent.length).toBe(1);
  }, 180_000);

  test("the data survives a minik restart", async () => {
    const written = await dataOf("db-0");
    await d!.stop();
    d = await startExclusive(dataDir);
    await podsReady(["db-0", "db-1"]);
    expect(await dataOf("db-0")).toBe(written);
    // and a pod made by the restarted minik mounts the same directory
    const before = (await list("pods")).find((p) => p.metadata.name === "db-0")!;
    expect((await minik(["delete", "pod", "db-0"])).code).toBe(0);
    await waitFor(
      async () => {
        const p = (await list("pods")).find((x) => x.metadata.name === "db-0");
        return p && p.metadata.uid !== before.metadata.uid && ready(p);
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "db-0 back after the restart" },
    );
    expect(await dataOf("db-0")).toBe(written);
    expect(entries(join(dataDir, "storage")).length).toBe(2);
  }, 300_000);

  test("ReadWriteOncePod: a second pod of the claim stays Pending (FailedScheduling); readOnly mounts are read-only", async () => {
    const pod = (name: string, claim: string, readOnly = false) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: ${image("busybox:1")}
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: ${claim}${readOnly ? ", readOnly: true" : ""}}
`;
    await d!.apply(
      "solo",
      `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: solo}
spec:
  accessModes: [ReadWriteOncePod]
  resources:
    requests: {storage: 1Mi}
---
${pod("first", "solo")}---
${pod("reader", "data-db-1", true)}`,
    );
    await podsReady(["first", "reader"]);
    await d!.apply("second", pod("second", "solo"));
    const message =
      "0/1 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.";
    await waitFor(
      async () => {
        const events = (await d!.getJson(["events"])).items as {
          involvedObject: { name: string };
          reason: string;
          message: string;
        }[];
        return events.some(
          (e) =>
            e.involvedObject.name === "second" && e.reason === "FailedScheduling" && e.message === message,
        );
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "FailedScheduling for the second pod" },
    );
    const second = (await list("pods")).find((p) => p.metadata.name === "second")!;
    expect(second.status?.phase).toBe("Pending");
    expect((second as Obj & { spec: { nodeName?: string } }).spec.nodeName).toBeUndefined();

    // A ReadWriteOnce claim is shared on the one node; mounted readOnly it cannot be written.
    expect(await dataOf("reader")).toBe(await dataOf("db-1"));
    const write = await minik(["exec", "reader", "--", "touch", "/data/x"]);
    expect(write.code).not.toBe(0);
    expect(write.stderr + write.stdout).toContain("Read-only file system");

    // Once the first pod is gone the second one gets the claim.
    expect((await minik(["delete", "pod", "first"])).code).toBe(0);
    await podsReady(["second"]);
    expect((await minik(["delete", "pod", "second", "reader"])).code).toBe(0);
    await waitFor(
      async () => !(await list("pods")).some((p) => ["first", "second", "reader"].includes(p.metadata.name)),
      { timeoutMs: 60_000, what: "test pods gone" },
    );
  }, 180_000);

  test("deleting everything leaves no volume directories, pod directories or containers", async () => {
    expect((await minik(["delete", "statefulset", "db"])).code).toBe(0);
    expect((await minik(["delete", "daemonset", "agent"])).code).toBe(0);
    expect((await minik(["delete", "service", "db"])).code).toBe(0);
    await waitFor(async () => (await list("pods")).length === 0, { timeoutMs: 60_000, what: "pods gone" });
    // Claims are retained by default (persistentVolumeClaimRetentionPolicy), so delete them.
    expect((await minik(["delete", "persistentvolumeclaims", "--all"])).code).toBe(0);
    await waitFor(async () => (await list("persistentvolumes")).length === 0, {
      timeoutMs: 30_000,
      what: "volumes reclaimed",
    });
    await waitFor(() => entries(join(dataDir, "storage")).length === 0, {
      what: "volume directories removed",
    });
    await waitFor(() => entries(join(dataDir, "pods")).length === 0, { what: "pod directories removed" });
    await waitFor(() => entries(join(dataDir, "containers")).length === 0, { what: "containers removed" });
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith(join(dataDir, "storage")) || m.startsWith(join(dataDir, "pods")));
    expect(mounts).toEqual([]);
    expect((await list("controllerrevisions")).length).toBe(0);
  }, 180_000);
});
