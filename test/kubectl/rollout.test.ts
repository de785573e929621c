import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless } from "../support/env.ts";
import { deploymentYaml } from "./fixtures.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;

/** rollout and wait ride on list+watch (informers), so they prove watch headers, bookmarks and resume. */
describe.skipIf(skipUnless(hasKubectl, "kubectl rollout", "needs /usr/bin/kubectl"))(
  "kubectl rollout",
  () => {
    beforeAll(async () => {
      c = await startCluster();
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("rollout status, wait, history, undo and restart", async () => {
      c.write("r.yaml", deploymentYaml("r"));
      await c.kubectl(["apply", "-f", "r.yaml"]);
      const status = await c.kubectl(["rollout", "status", "deploy/r", "--timeout=20s"]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('deployment "r" successfully rolled out');
      const wait = await c.kubectl(["wait", "--for=condition=Available", "deploy/r", "--timeout=20s"]);
      expect(wait).toMatchObject({ code: 0, stdout: "deployment.apps/r condition met\n" });

      c.write("r.yaml", deploymentYaml("r", "nginx:1.26"));
      await c.kubectl(["apply", "-f", "r.yaml"]);
      expect((await c.kubectl(["rollout", "status", "deploy/r", "--timeout=20s"])).code).toBe(0);
      const history = await c.kubectl(["rollout", "history", "deploy/r"]);
      expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);

      expect((await c.kubectl(["rollout", "undo", "deploy/r"])).stdout).toBe(
        "deployment.apps/r rolled back\n",
      );
      expect((await c.kubectl(["rollout", "status", "deploy/r", "--timeout=20s"])).code).toBe(0);
      const image = await c.kubectl([
        "get",
        "deploy/r",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
      ]);
      expect(image.stdout).toBe("nginx:1.25");
      expect((await c.kubectl(["rollout", "history", "deploy/r"])).stdout).toMatch(
        /\n2\s+<none>\n3\s+<none>\n/,
      );

      expect((await c.kubectl(["rollout", "restart", "deploy/r"])).stdout).toBe(
        "deployment.apps/r restarted\n",
      );
      const restarted = await c.kubectl([
        "get",
        "deploy/r",
        "-o",
        "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
      ]);
      expect(restarted.stdout).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect((await c.kubectl(["rollout", "status", "deploy/r", "--timeout=20s"])).code).toBe(0);
    });

    test("get -w prints a row per change under one header", async () => {
      const watch = c.spawn(["get", "configmaps", "-w"]);
      const reader = (watch.stdout as ReadableStream<Uint8Array>).getReader();
      let out = "";
      const until = async (re: RegExp) => {
        while (!re.test(out)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`watch ended early: ${out}`);
          out += new TextDecoder().decode(value);
        }
      };
      const cm = (name: string, data: Record<string, string>) =>
        c.client.create("configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, namespace: "default" },
          data,
        });
      await cm("w1", { a: "b" });
      await until(/^w1\s+1\s+\d+s$/m);
      await cm("w2", {});
      await until(/^w2\s+0\s+\d+s$/m);
      expect(out.split("\n")[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
      expect(out.match(/^NAME/gm)).toHaveLength(1);
      watch.kill();
      await watch.exited;
    });
  },
);
