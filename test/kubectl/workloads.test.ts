import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createFakeLocalVolumes,
  type FakeLocalVolumes,
} from "../../core/seams/testing/fake-local-volumes.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;
let volumes: FakeLocalVolumes;

const STS = (image = "busybox:1") => `apiVersion: v1
kind: Service
metadata:
  name: db
  labels: {app: db}
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
  labels: {app: db}
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: ${image}
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
`;

const DS = `apiVersion: apps/v1
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
      containers:
      - name: agent
        image: busybox:1
`;

const image = async (what: string) =>
  (await c.kubectl(["get", what, "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).stdout;

/** Issue 12 through the real kubectl: the new kinds in discovery, tables, rollout and prune. */
describe.skipIf(skipUnless(hasKubectl, "kubectl workloads", "needs /usr/bin/kubectl"))(
  "kubectl: StatefulSet, DaemonSet and storage",
  () => {
    beforeAll(async () => {
      volumes = createFakeLocalVolumes();
      c = await startCluster({ localVolumes: volumes });
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("a StatefulSet rolls out with Bound claims; get prints kubectl's columns", async () => {
      c.write("sts.yaml", STS());
      const applied = await c.kubectl(["apply", "-f", "sts.yaml"]);
      expect(applied.stderr).toBe("");
      expect(applied.stdout).toBe("service/db created\nstatefulset.apps/db created\n");
      const status = await c.kubectl(["rollout", "status", "statefulset/db", "--timeout=30s"]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain("partitioned roll out complete: 2 new pods have been updated...");
      await waitFor(
        async () => (await c.kubectl(["get", "pvc", "--no-headers"])).stdout.match(/Bound/g)?.length === 2,
        { what: "two Bound claims" },
      );
      const sts = await c.kubectl(["get", "sts"]);
      expect(sts.stdout).toMatch(/^NAME\s+READY\s+AGE\ndb\s+2\/2\s+\d+s\n$/);
      const pvc = await c.kubectl(["get", "pvc"]);
      expect(pvc.stdout).toMatch(
        /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\n/,
      );
      expect(pvc.stdout).toMatch(/data-db-0\s+Bound\s+pvc-[0-9a-f-]+\s+1Gi\s+RWO\s+local-path\s+<unset>/);
      const pv = await c.kubectl(["get", "pv"]);
      expect(pv.stdout).toMatch(
        /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS/,
      );
      expect(pv.stdout).toMatch(/1Gi\s+RWO\s+Delete\s+Bound\s+default\/data-db-0\s+local-path/);
      const sc = await c.kubectl(["get", "storageclass"]);
      expect(sc.stdout).toMatch(
        /local-path \(default\)\s+rancher.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/,
      );
      expect(volumes.dirs.size).toBe(2);
      const pods = await c.kubectl(["get", "pods", "-o", "name"]);
      expect(pods.stdout).toBe("pod/db-0\npod/db-1\n");
      const all = await c.kubectl(["get", "all"]);
      expect(all.stdout).toContain("statefulset.apps/db");
    });

    test("rollout history and undo of a StatefulSet through ControllerRevisions", async () => {
      expect((await c.kubectl(["set", "image", "statefulset/db", "db=busybox:2"])).code).toBe(0);
      expect((await c.kubectl(["rollout", "status", "statefulset/db", "--timeout=30s"])).code).toBe(0);
      const history = await c.kubectl(["rollout", "history", "statefulset/db"]);
      expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
      const rev1 = await c.kubectl(["rollout", "history", "statefulset/db", "--revision=1"]);
      expect(rev1.stdout).toContain("busybox:1");
      const revs = await c.kubectl(["get", "controllerrevisions"]);
      expect(revs.stdout).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE\n/);
      expect(revs.stdout).toContain("statefulset.apps/db");
      const undo = await c.kubectl(["rollout", "undo", "statefulset/db"]);
      expect(undo.stdout).toBe("statefulset.apps/db rolled back\n");
      expect(await image("statefulset/db")).toBe("busybox:1");
      expect((await c.kubectl(["rollout", "status", "statefulset/db", "--timeout=30s"])).code).toBe(0);
    });

    test("scale and describe a StatefulSet; describe a claim", async () => {
      expect((await c.kubectl(["scale", "sts/db", "--replicas=3"])).stdout).toBe(
        "statefulset.apps/db scaled\n",
      );
      expect((await c.kubectl(["rollout", "status", "statefulset/db", "--timeout=30s"])).code).toBe(0);
      expect((await c.kubectl(["get", "pods", "-o", "name"])).stdout).toBe("pod/db-0\npod/db-1\npod/db-2\n");
      expect((await c.kubectl(["scale", "sts/db", "--replicas=2"])).code).toBe(0);
      await waitFor(
        async () => (await c.kubectl(["get", "pods", "-o", "name"])).stdout === "pod/db-0\npod/db-1\n",
        {
          what: "db-2 gone",
        },
      );
      const sts = await c.kubectl(["describe", "sts", "db"]);
      expect(sts.code).toBe(0);
      expect(sts.stdout).toMatch(/Replicas:\s+2 desired \| 2 total/);
      expect(sts.stdout).toContain("Volume Claims:");
      const pvc = await c.kubectl(["describe", "pvc", "data-db-0"]);
      expect(pvc.code).toBe(0);
      expect(pvc.stdout).toMatch(/Status:\s+Bound/);
      expect(pvc.stdout).toMatch(/Used By:\s+db-0/);
    });

    test("immutable StatefulSet fields are refused with 422", async () => {
      const r = await c.kubectl(["patch", "sts", "db", "-p", '{"spec":{"serviceName":"other"}}']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'The StatefulSet "db" is invalid: spec: Forbidden: updates to statefulset spec',
      );
    });

    test("a DaemonSet runs one pod; rollout status, history and undo", async () => {
      c.write("ds.yaml", DS);
      expect((await c.kubectl(["apply", "-f", "ds.yaml"])).stdout).toBe("daemonset.apps/agent created\n");
      const status = await c.kubectl(["rollout", "status", "ds/agent", "--timeout=30s"]);
      expect(status.stdout).toContain('daemon set "agent" successfully rolled out');
      const ds = await c.kubectl(["get", "ds"]);
      expect(ds.stdout).toMatch(
        /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+1\s+1\s+1\s+1\s+1\s+<none>/,
      );
      expect((await c.kubectl(["set", "image", "ds/agent", "agent=busybox:2"])).code).toBe(0);
      expect((await c.kubectl(["rollout", "status", "ds/agent", "--timeout=30s"])).code).toBe(0);
      expect((await c.kubectl(["rollout", "history", "ds/agent"])).stdout).toMatch(
        /\n1\s+<none>\n2\s+<none>\n/,
      );
      expect((await c.kubectl(["rollout", "undo", "ds/agent"])).stdout).toBe(
        "daemonset.apps/agent rolled back\n",
      );
      expect(await image("ds/agent")).toBe("busybox:1");
    });

    test("the minik CLI: rollout status, history, undo and restart of a StatefulSet and a DaemonSet, worded as kubectl", async () => {
      // Line by line without kubectl's trailing spaces and blank lines.
      const lines = (text: string) =>
        text
          .split("\n")
          .map((l) => l.trimEnd())
          .filter(Boolean);
      const sameAsKubectl = async (args: string[]) => {
        const [mine, theirs] = [await c.minik(args), await c.kubectl(args)];
        expect(mine.stderr).toBe("");
        expect(lines(mine.stdout)).toEqual(lines(theirs.stdout));
        return mine;
      };
      for (const [target, done] of [
        ["statefulset/db", "partitioned roll out complete: 2 new pods have been updated..."],
        ["ds/agent", 'daemon set "agent" successfully rolled out'],
      ] as const) {
        const status = await c.minik(["rollout", "status", target, "--timeout", "30"]);
        expect(status).toMatchObject({ code: 0, stderr: "" });
        expect(lines(status.stdout).at(-1)).toBe(done);
        const history = await sameAsKubectl(["rollout", "history", target]);
        // One revision: kubectl's header line, then the pod template it holds.
        const first = lines(history.stdout)[2]!.split(/\s+/)[0];
        const one = await c.minik(["rollout", "history", target, `--revision=${first}`]);
        const kind = target.startsWith("ds/") ? "daemonset.apps/agent" : "statefulset.apps/db";
        expect(one.stdout).toStartWith(`${kind} with revision #${first}\n`);
        expect(one.stdout).toContain('"image": "busybox:');
      }

      // undo goes to the previous revision: busybox:2, then back to busybox:1 by number.
      const kind = "statefulset.apps/db";
      expect((await c.minik(["rollout", "undo", "sts/db"])).stdout).toBe(`${kind} rolled back\n`);
      expect(await image("statefulset/db")).toBe("busybox:2");
      expect((await c.minik(["rollout", "status", "sts/db", "--timeout", "30"])).code).toBe(0);
      const numbers = lines((await c.minik(["rollout", "history", "sts/db"])).stdout)
        .slice(2)
        .map((l) => Number(l.split(/\s+/)[0]));
      const [older, newest] = numbers.slice(-2);
      // (kubectl itself compares the revision's bytes with Go's encoding of the spec, which
      // minik's JSON key order never equals, so it would "roll back" to the same template.)
      expect((await c.minik(["rollout", "undo", "sts/db", `--to-revision=${newest}`])).stdout).toBe(
        `${kind} skipped rollback (current template already matches revision ${newest})\n`,
      );
      expect((await c.minik(["rollout", "undo", "sts/db", `--to-revision=${older}`])).code).toBe(0);
      expect(await image("statefulset/db")).toBe("busybox:1");
      const missing = await c.minik(["rollout", "undo", "sts/db", "--to-revision=99"]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain("unable to find specified revision 99 in history");

      for (const [target, name] of [
        ["sts/db", "statefulset.apps/db"],
        ["daemonset/agent", "daemonset.apps/agent"],
      ] as const) {
        expect((await c.minik(["rollout", "restart", target])).stdout).toBe(`${name} restarted\n`);
        const restartedAt = await c.kubectl([
          "get",
          target,
          "-o",
          "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
        ]);
        expect(restartedAt.stdout).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect((await c.minik(["rollout", "status", target, "--timeout", "30"])).code).toBe(0);
      }
      const pause = await c.minik(["rollout", "pause", "sts/db"]);
      expect(pause.code).not.toBe(0);
      expect(pause.stderr).toContain('statefulsets.apps "db" pausing is not supported');
    });

    test("apply --prune over claims and StatefulSets; deleting claims removes their volumes", async () => {
      // (kubectl's default prune list also names ReplicationController, Job, CronJob and Ingress,
      // which minik does not serve yet, so the kinds are listed here.)
      c.write("sts.yaml", STS());
      const pruned = await c.kubectl([
        "apply",
        "--prune",
        "-l",
        "app=db",
        "--prune-allowlist=core/v1/PersistentVolumeClaim",
        "--prune-allowlist=apps/v1/StatefulSet",
        "--prune-allowlist=core/v1/Service",
        "-f",
        "sts.yaml",
      ]);
      expect(pruned.stderr).toBe("");
      expect(pruned.code).toBe(0);
      expect((await c.kubectl(["delete", "sts", "db"])).code).toBe(0);
      expect((await c.kubectl(["delete", "pvc", "--all", "--timeout=30s"])).code).toBe(0);
      await waitFor(async () => (await c.kubectl(["get", "pv", "--no-headers"])).stdout === "", {
        what: "volumes reclaimed",
      });
      expect(volumes.dirs.size).toBe(0);
    });

    test("explain knows the new kinds", async () => {
      const r = await c.kubectl(["explain", "statefulset.spec.volumeClaimTemplates"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("PersistentVolumeClaim");
    });
  },
);
