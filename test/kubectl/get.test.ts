import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless, waitFor } from "../support/env.ts";
import { deploymentYaml, serviceYaml } from "./fixtures.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;

describe.skipIf(skipUnless(hasKubectl, "kubectl get", "needs /usr/bin/kubectl"))("kubectl reads", () => {
  beforeAll(async () => {
    c = await startCluster();
    const file = c.write("web.yaml", `${deploymentYaml("web")}---\n${serviceYaml("web")}`);
    const applied = await c.kubectl(["apply", "-f", file]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toBe("deployment.apps/web created\nservice/web created\n");
    await waitFor(
      async () =>
        (await c.kubectl(["get", "deploy", "web", "-o", "jsonpath={.status.availableReplicas}"])).stdout ===
        "2",
      {
        what: "web to be available",
      },
    );
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("version and api-resources come from /version and discovery", async () => {
    const v = await c.kubectl(["version"]);
    expect(v.stdout).toContain("Server Version: v1.32.0-minik");
    expect(v.stderr).not.toContain("WARNING");
    const r = await c.kubectl(["api-resources", "--no-headers"]);
    const deploy = r.stdout.split("\n").find((l) => l.startsWith("deployments "));
    expect(deploy?.split(/\s+/)).toEqual(["deployments", "deploy", "apps/v1", "true", "Deployment"]);
  });

  test("get shows server-side Table columns, -o wide adds the priority-1 ones", async () => {
    const plain = await c.kubectl(["get", "deploy"]);
    expect(plain.stdout.split("\n")[0]!.split(/\s+/)).toEqual([
      "NAME",
      "READY",
      "UP-TO-DATE",
      "AVAILABLE",
      "AGE",
    ]);
    expect(plain.stdout).toMatch(/^web\s+2\/2\s+2\s+2\s+\d+s$/m);
    const wide = await c.kubectl(["get", "deploy", "-o", "wide"]);
    expect(wide.stdout).toMatch(/^web\s+2\/2\s+2\s+2\s+\d+s\s+nginx\s+nginx:1\.25\s+app=web$/m);
    const pods = await c.kubectl(["get", "pods", "-o", "wide"]);
    expect(pods.stdout.split("\n")[0]!.split(/\s{2,}/)).toEqual([
      "NAME",
      "READY",
      "STATUS",
      "RESTARTS",
      "AGE",
      "IP",
      "NODE",
      "NOMINATED NODE",
      "READINESS GATES",
    ]);
    expect(pods.stdout).toMatch(
      /^web-[a-z0-9]+-[a-z0-9]+\s+1\/1\s+Running\s+0\s+\d+s\s+10\.88\.0\.9\s+minik\s+<none>\s+<none>$/m,
    );
    const svc = await c.kubectl(["get", "svc", "web"]);
    expect(svc.stdout).toMatch(/^web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/m);
  });

  test("get all lists pods, services, deployments and replicasets with kind prefixes", async () => {
    const all = await c.kubectl(["get", "all"]);
    expect(all.stdout).toMatch(/^pod\/web-/m);
    expect(all.stdout).toMatch(/^service\/web\s/m);
    expect(all.stdout).toMatch(/^deployment\.apps\/web\s/m);
    expect(all.stdout).toMatch(/^replicaset\.apps\/web-[a-z0-9]+\s+2\s+2\s+2\s/m);
  });

  test("single-object get is a Table too; -o name, yaml, json and jsonpath", async () => {
    expect((await c.kubectl(["get", "deploy", "web"])).stdout).toMatch(/^web\s+2\/2\s+2\s+2\s/m);
    expect((await c.kubectl(["get", "deploy", "-o", "name"])).stdout).toBe("deployment.apps/web\n");
    const yaml = (await c.kubectl(["get", "deploy", "web", "-o", "yaml"])).stdout;
    expect(yaml).toContain("kind: Deployment");
    expect(yaml).toContain("kubectl.kubernetes.io/last-applied-configuration");
    const json = JSON.parse((await c.kubectl(["get", "deploy", "web", "-o", "json"])).stdout);
    expect(json.spec.replicas).toBe(2);
    expect(json.spec.strategy.type).toBe("RollingUpdate");
    const list = JSON.parse((await c.kubectl(["get", "pods", "-o", "json"])).stdout);
    expect(list.kind).toBe("List");
    expect(list.items).toHaveLength(2);
    expect((await c.kubectl(["get", "svc", "web", "-o", "jsonpath={.spec.ports[0].protocol}"])).stdout).toBe(
      "TCP",
    );
  });

  test("--show-labels, -l, -A and --sort-by need row objects", async () => {
    const labels = await c.kubectl(["get", "deploy", "--show-labels"]);
    expect(labels.stdout).toMatch(/^web\s.*\sapp=web$/m);
    expect(
      (await c.kubectl(["get", "pods", "-l", "app=web", "-o", "name"])).stdout.trim().split("\n"),
    ).toHaveLength(2);
    expect((await c.kubectl(["get", "pods", "-l", "app=other"])).stderr).toContain(
      "No resources found in default namespace.",
    );
    const all = await c.kubectl(["get", "deploy", "-A"]);
    expect(all.stdout).toMatch(/^default\s+web\s+2\/2/m);
    const ns = await c.kubectl(["get", "ns", "--sort-by=.metadata.name", "-o", "name"]);
    expect(ns.stdout).toBe(
      "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n",
    );
    const sorted = await c.kubectl(["get", "ns", "--sort-by=.metadata.name"]);
    expect(sorted.code).toBe(0);
    expect(
      sorted.stdout
        .split("\n")
        .slice(1, 5)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
  });

  test("describe deployment and pod read events by field selector", async () => {
    const d = await c.kubectl(["describe", "deployment", "web"]);
    expect(d.stdout).toMatch(
      /^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m,
    );
    expect(d.stdout).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(d.stdout).toMatch(/NewReplicaSet:\s+web-[a-z0-9]+ \(2\/2 replicas created\)/);
    expect(d.stdout).toMatch(/Normal\s+ScalingReplicaSet\s+.*Scaled up replica set web-/);
    const pod = (await c.kubectl(["get", "pods", "-o", "name"])).stdout.trim().split("\n")[0]!;
    const p = await c.kubectl(["describe", pod]);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^Status:\s+Running$/m);
    expect(p.stdout).toMatch(/^Node:\s+minik\//m);
  });

  test("auth can-i and whoami", async () => {
    expect(await c.kubectl(["auth", "can-i", "delete", "deployments"])).toMatchObject({
      code: 0,
      stdout: "yes\n",
    });
    expect((await c.kubectl(["auth", "whoami"])).stdout).toMatch(/^Username\s+minik-admin$/m);
  });

  test("explain walks the OpenAPI v3 schemas", async () => {
    const spec = await c.kubectl(["explain", "deployment.spec"]);
    expect(spec.code).toBe(0);
    expect(spec.stdout).toMatch(/^FIELD: spec <DeploymentSpec>$/m);
    expect(spec.stdout).toMatch(/^\s+replicas\s+<integer>/m);
    expect(spec.stdout).toMatch(/^\s+template\s+<PodTemplateSpec>/m);
    const ports = await c.kubectl(["explain", "pods.spec.containers.ports"]);
    expect(ports.stdout).toMatch(/^FIELD: ports <\[\]ContainerPort>$/m);
    expect(ports.stdout).toMatch(/^\s+containerPort\s+<integer>/m);
  });

  test("errors come back as kubectl's own messages", async () => {
    const missing = await c.kubectl(["get", "deploy", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
    const unknown = await c.kubectl(["get", "widgets"]);
    expect(unknown.stderr).toContain('the server doesn\'t have a resource type "widgets"');
    const ns = await c.kubectl(["get", "pods", "-n", "nowhere"]);
    expect(ns.stderr).toContain("No resources found in nowhere namespace.");
  });
});
