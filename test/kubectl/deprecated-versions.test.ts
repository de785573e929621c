import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

const ARTICLE = readFileSync(join(import.meta.dir, "../../examples/nginx-deployment.yaml"), "utf8");
const WARNING =
  "Warning: extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment";

let c: Cluster;

describe.skipIf(skipUnless(hasKubectl, "kubectl deprecated versions", "needs /usr/bin/kubectl"))(
  "kubectl and the deprecated Deployment versions",
  () => {
    beforeAll(async () => {
      c = await startCluster({ kubelet: false });
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("the article's manifest applies verbatim, with the deprecation warning", async () => {
      const file = c.write("nginx-deployment.yaml", ARTICLE);
      const res = await c.kubectl(["apply", "-f", file]);
      expect(res).toMatchObject({ code: 0, stdout: "deployment.extensions/nginx-deployment created\n" });
      expect(res.stderr.trim()).toBe(WARNING);
      const d = JSON.parse(
        (await c.kubectl(["get", "deployment.apps/nginx-deployment", "-o", "json"])).stdout,
      );
      expect(d.apiVersion).toBe("apps/v1");
      expect(d.spec.selector).toEqual({ matchLabels: { app: "nginx-server" } });
      expect(d.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 1 });
      // unqualified names keep meaning apps/v1
      expect((await c.kubectl(["get", "deploy", "-o", "name"])).stdout).toBe(
        "deployment.apps/nginx-deployment\n",
      );
      expect(await c.kubectl(["apply", "-f", file])).toMatchObject({
        stderr: `${WARNING}\n`,
        stdout: "deployment.extensions/nginx-deployment unchanged\n",
      });
      c.write("nginx-deployment.yaml", ARTICLE.replace("replicas: 2", "replicas: 3"));
      const changed = await c.kubectl(["apply", "-f", file]);
      expect(changed.stdout).toBe("deployment.extensions/nginx-deployment configured\n");
      expect(changed.stderr).toContain(WARNING);
      const old = await c.kubectl([
        "get",
        "deployments.v1beta1.extensions",
        "nginx-deployment",
        "-o",
        "json",
      ]);
      expect(old.stderr).toContain(WARNING);
      expect(JSON.parse(old.stdout)).toMatchObject({
        apiVersion: "extensions/v1beta1",
        spec: { replicas: 3 },
      });
    });

    test("kubectl explain reads the old version's schema", async () => {
      const res = await c.kubectl([
        "explain",
        "deployments.spec.rollbackTo",
        "--api-version=extensions/v1beta1",
      ]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("revision");
      expect(res.stdout).toContain("GROUP:      extensions");
    });

    test("kubectl reads /openapi/v2 (protobuf) for explain's v2 output", async () => {
      const res = await c.kubectl([
        "explain",
        "deployments.spec.rollbackTo",
        "--api-version=extensions/v1beta1",
        "--output=plaintext-openapiv2",
      ]);
      expect(res.stderr).toBe("");
      expect(res.stdout).toContain("KIND:     Deployment");
      expect(res.stdout).toContain("revision");
      const cr = await c.kubectl(["explain", "pods.spec.containers.image", "--output=plaintext-openapiv2"]);
      expect(cr.stdout).toContain("FIELD:    image <string>");
    });
  },
);
