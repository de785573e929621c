import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless, waitFor } from "../support/env.ts";
import { deploymentYaml } from "./fixtures.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;
type Obj = {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
  status?: any;
};
const getJson = async (what: string): Promise<Obj> =>
  JSON.parse((await c.kubectl(["get", what, "-o", "json"])).stdout);

describe.skipIf(skipUnless(hasKubectl, "kubectl writes", "needs /usr/bin/kubectl"))("kubectl writes", () => {
  beforeAll(async () => {
    c = await startCluster();
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("apply creates, re-apply of the same file is unchanged, a changed file is configured by SMP", async () => {
    const file = c.write("app.yaml", deploymentYaml("app"));
    expect((await c.kubectl(["apply", "-f", file])).stdout).toBe("deployment.apps/app created\n");
    expect((await c.kubectl(["apply", "-f", file])).stdout).toBe("deployment.apps/app unchanged\n");
    const changed = c.write(
      "app.yaml",
      deploymentYaml("app", "nginx:1.26", 3).replace(
        "ports: [{containerPort: 80}]",
        "env: [{name: A, value: '1'}]",
      ),
    );
    const diff = await c.kubectl(["diff", "-f", changed]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain("-      - image: nginx:1.25");
    expect(diff.stdout).toMatch(/^\+\s+image: nginx:1\.26$/m);
    expect((await getJson("deploy/app")).spec.template.spec.containers[0].image).toBe("nginx:1.25");
    expect((await c.kubectl(["apply", "-f", changed])).stdout).toBe("deployment.apps/app configured\n");
    const d = await getJson("deploy/app");
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0].image).toBe("nginx:1.26");
    expect(d.spec.template.spec.containers[0].env).toEqual([{ name: "A", value: "1" }]);
    expect(d.spec.template.spec.containers[0].ports).toBeUndefined();
  });

  test("strict field validation rejects unknown fields with kubectl's message", async () => {
    const bad = c.write("bad.yaml", deploymentYaml("bad").replace("replicas: 2", "replicas: 2\n  foo: 1"));
    const res = await c.kubectl(["apply", "-f", bad]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('unknown field "spec.foo"');
    expect((await c.kubectl(["get", "deploy", "bad"])).code).toBe(1);
  });

  test("apply --server-side creates and updates", async () => {
    const file = c.write("ssa.yaml", deploymentYaml("ssa"));
    expect((await c.kubectl(["apply", "--server-side", "-f", file])).stdout).toBe(
      "deployment.apps/ssa serverside-applied\n",
    );
    c.write("ssa.yaml", deploymentYaml("ssa", "nginx:1.27", 1));
    expect((await c.kubectl(["apply", "--server-side", "-f", file])).stdout).toBe(
      "deployment.apps/ssa serverside-applied\n",
    );
    const d = await getJson("deploy/ssa");
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.template.spec.containers[0].image).toBe("nginx:1.27");
  });

  test("scale, set image, label, annotate and edit change the stored object", async () => {
    c.write("ed.yaml", deploymentYaml("ed"));
    await c.kubectl(["apply", "-f", "ed.yaml"]);
    expect((await c.kubectl(["scale", "deploy/ed", "--replicas=4"])).stdout).toBe(
      "deployment.apps/ed scaled\n",
    );
    expect((await getJson("deploy/ed")).spec.replicas).toBe(4);
    const rv = (await c.kubectl(["get", "deploy/ed", "-o", "jsonpath={.metadata.resourceVersion}"])).stdout;
    expect((await c.kubectl(["scale", "deploy/ed", "--replicas=1", `--resource-version=${rv}`])).code).toBe(
      0,
    );
    expect((await getJson("deploy/ed")).spec.replicas).toBe(1);
    expect((await c.kubectl(["set", "image", "deploy/ed", "nginx=nginx:1.8"])).stdout).toBe(
      "deployment.apps/ed image updated\n",
    );
    expect((await getJson("deploy/ed")).spec.template.spec.containers[0].image).toBe("nginx:1.8");
    expect((await c.kubectl(["label", "deploy/ed", "tier=front"])).stdout).toBe(
      "deployment.apps/ed labeled\n",
    );
    expect((await c.kubectl(["annotate", "deploy/ed", "note=hello"])).stdout).toBe(
      "deployment.apps/ed annotated\n",
    );
    const d = await getJson("deploy/ed");
    expect(d.metadata.labels).toEqual({ app: "ed", tier: "front" });
    expect(d.metadata.annotations?.note).toBe("hello");
    expect((await c.kubectl(["label", "deploy/ed", "tier-"])).code).toBe(0);
    expect((await getJson("deploy/ed")).metadata.labels).toEqual({ app: "ed" });
    const edit = await c.kubectl(["edit", "deploy/ed"], {
      env: { EDITOR: "sed -i s/replicas:\\ 1$/replicas:\\ 2/" },
    });
    expect(edit.stdout).toBe("deployment.apps/ed edited\n");
    expect((await getJson("deploy/ed")).spec.replicas).toBe(2);
  });

  test("run, expose and create from generators", async () => {
    expect(
      (await c.kubectl(["run", "solo", "--image=busybox", "--labels=app=solo", "--", "sleep", "1d"])).stdout,
    ).toBe("pod/solo created\n");
    expect((await c.kubectl(["expose", "pod/solo", "--port=80"])).stdout).toBe("service/solo exposed\n");
    const svc = await getJson("svc/solo");
    expect(svc.spec.clusterIP).toMatch(/^10\.96\./);
    expect(svc.spec.selector).toEqual({ app: "solo" });
    expect(svc.spec.type).toBe("ClusterIP");
    expect((await c.kubectl(["create", "configmap", "cm", "--from-literal=a=1"])).stdout).toBe(
      "configmap/cm created\n",
    );
    expect((await getJson("cm/cm")) as unknown as { data: unknown }).toMatchObject({ data: { a: "1" } });
    expect((await c.kubectl(["create", "secret", "generic", "sec", "--from-literal=pw=s3"])).stdout).toBe(
      "secret/sec created\n",
    );
    expect(((await getJson("secret/sec")) as unknown as { data: Record<string, string> }).data.pw).toBe(
      btoa("s3"),
    );
    expect((await c.kubectl(["create", "namespace", "demo"])).stdout).toBe("namespace/demo created\n");
    expect((await c.kubectl(["get", "ns", "demo", "-o", "jsonpath={.status.phase}"])).stdout).toBe("Active");
    expect((await c.kubectl(["create", "service", "clusterip", "csvc", "--tcp=8080:80"])).stdout).toBe(
      "service/csvc created\n",
    );
    const csvc = await getJson("svc/csvc");
    expect(csvc.spec.ports[0]).toMatchObject({ port: 8080, targetPort: 80, protocol: "TCP" });
    const created = await c.kubectl(["create", "deployment", "gen", "--image=nginx:1.25", "--replicas=0"]);
    expect(created.stdout).toBe("deployment.apps/gen created\n");
    const gen = await getJson("deploy/gen");
    expect(gen.spec.replicas).toBe(0);
    expect(gen.spec.template.spec.containers[0]).toMatchObject({ name: "nginx", image: "nginx:1.25" });
    expect(gen.spec.selector.matchLabels).toEqual({ app: "gen" });
  });

  test("autoscale creates an autoscaling/v1 HPA that reads back as v2", async () => {
    c.write("as.yaml", deploymentYaml("as"));
    await c.kubectl(["apply", "-f", "as.yaml"]);
    const res = await c.kubectl(["autoscale", "deploy/as", "--min=1", "--max=3", "--cpu-percent=50"]);
    expect(res.stdout).toBe("horizontalpodautoscaler.autoscaling/as autoscaled\n");
    expect((await c.kubectl(["get", "hpa", "as"])).stdout).toMatch(
      /^as\s+Deployment\/as\s+cpu: [^ ]+\/50%\s+1\s+3\s+\d+\s+\d+s$/m,
    );
  });

  test("delete -f and delete --wait remove objects and their dependents", async () => {
    const file = c.write("gone.yaml", deploymentYaml("gone"));
    await c.kubectl(["apply", "-f", file]);
    await waitFor(
      async () =>
        (await c.kubectl(["get", "pods", "-l", "app=gone", "-o", "name"])).stdout.trim().split("\n")
          .length === 2,
    );
    expect((await c.kubectl(["delete", "-f", file])).stdout).toBe('deployment.apps "gone" deleted\n');
    expect((await c.kubectl(["get", "deploy", "gone"])).code).toBe(1);
    await waitFor(
      async () => (await c.kubectl(["get", "pods", "-l", "app=gone", "-o", "name"])).stdout === "",
      { what: "pods garbage-collected" },
    );
    await c.kubectl(["run", "p1", "--image=busybox"]);
    const del = await c.kubectl(["delete", "pod", "p1", "--wait=true", "--timeout=20s"]);
    expect(del.stdout).toBe('pod "p1" deleted\n');
    expect((await c.kubectl(["get", "pod", "p1"])).stderr).toContain('pods "p1" not found');
  });
});
