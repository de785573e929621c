import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;

const chart = `apiVersion: v1
kind: Namespace
metadata: {name: chart}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: chart}
spec:
  limits:
  - type: Container
    default: {memory: 128Mi}
    defaultRequest: {memory: 64Mi}
    max: {memory: 256Mi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: small, namespace: chart}
spec:
  hard: {pods: "1", requests.memory: 128Mi}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: chart-high}
value: 1000
description: for the chart's pods
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: crun}
handler: crun
---
apiVersion: v1
kind: PodTemplate
metadata: {name: job-template, namespace: chart}
template:
  metadata: {labels: {app: job}}
  spec:
    containers: [{name: main, image: "busybox:1.36"}]
`;

/** The kinds a chart carries, applied and read with real kubectl; quota and LimitRange act on pods. */
describe.skipIf(skipUnless(hasKubectl, "kubectl chart kinds", "needs /usr/bin/kubectl"))(
  "chart kinds",
  () => {
    beforeAll(async () => {
      c = await startCluster({ kubelet: false });
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("kubectl apply creates every kind; get shows kubectl's columns", async () => {
      const applied = await c.kubectl(["apply", "-f", c.write("chart.yaml", chart)]);
      expect(applied.stderr).toBe("");
      expect(applied.stdout).toBe(
        [
          "namespace/chart created",
          "limitrange/defaults created",
          "resourcequota/small created",
          "priorityclass.scheduling.k8s.io/chart-high created",
          "runtimeclass.node.k8s.io/crun created",
          "podtemplate/job-template created",
          "",
        ].join("\n"),
      );
      const pcs = await c.kubectl(["get", "pc"]);
      expect(pcs.stdout.split("\n")[0]!.split(/\s+/)).toEqual([
        "NAME",
        "VALUE",
        "GLOBAL-DEFAULT",
        "AGE",
        "PREEMPTIONPOLICY",
      ]);
      expect(pcs.stdout).toMatch(/^system-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority$/m);
      expect(pcs.stdout).toMatch(/^chart-high\s+1000\s+false\s/m);
      expect((await c.kubectl(["get", "runtimeclass"])).stdout).toMatch(/^crun\s+crun\s+\S+$/m);
      expect((await c.kubectl(["get", "podtemplates", "-n", "chart"])).stdout).toMatch(
        /^job-template\s+main\s+busybox:1\.36\s+app=job$/m,
      );
      expect((await c.kubectl(["get", "limits", "-n", "chart"])).stdout).toMatch(
        /^defaults\s+\d{4}-\d\d-\d\dT/m,
      );
      // the resource-quota controller fills status
      const quota = await waitFor(
        async () => {
          const out = (await c.kubectl(["get", "quota", "-n", "chart"])).stdout;
          return out.includes("pods: 0/1") ? out : undefined;
        },
        { what: "quota status" },
      );
      expect(quota.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "AGE", "REQUEST", "LIMIT"]);
      expect(quota).toMatch(/^small\s+\S+\s+pods: 0\/1, requests\.memory: 0\/128Mi\s*$/m);
    });

    test("a pod gets the LimitRange defaults and its class's priority; the second one exceeds the quota", async () => {
      const first = await c.kubectl([
        "run",
        "one",
        "-n",
        "chart",
        "--image=busybox:1.36",
        "--restart=Never",
        "--overrides",
        JSON.stringify({ spec: { priorityClassName: "chart-high" } }),
      ]);
      expect(first.stderr).toBe("");
      const pod = JSON.parse((await c.kubectl(["get", "pod", "one", "-n", "chart", "-o", "json"])).stdout);
      expect(pod.spec.priority).toBe(1000);
      expect(pod.spec.containers[0].resources).toEqual({
        limits: { memory: "128Mi" },
        requests: { memory: "64Mi" },
      });
      const second = await c.kubectl([
        "run",
        "two",
        "-n",
        "chart",
        "--image=busybox:1.36",
        "--restart=Never",
      ]);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toBe(
        'Error from server (Forbidden): pods "two" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1\n',
      );
      const unknown = await c.kubectl([
        "run",
        "three",
        "--image=busybox:1.36",
        "--restart=Never",
        "--overrides",
        JSON.stringify({ spec: { priorityClassName: "nope" } }),
      ]);
      expect(unknown.stderr).toContain("no PriorityClass with name nope was found");
    });
  },
);
