import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../core/object.ts";
import { skipUnless } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;

const PROTOBUF_RESPONSE = /Content-Type: application\/vnd\.kubernetes\.protobuf/;

/**
 * kubectl's typed clients (create <generator>, describe, rollout history, auth can-i) send
 * `Accept: application/vnd.kubernetes.protobuf,application/json`: they get protobuf for the kinds
 * whose messages minik describes, and still work where it answers JSON.
 */
describe.skipIf(skipUnless(hasKubectl, "kubectl protobuf", "needs /usr/bin/kubectl"))(
  "kubectl reads protobuf answers",
  () => {
    beforeAll(async () => {
      c = await startCluster();
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("create <generator> decodes the protobuf object minik answers", async () => {
      const created = await c.kubectl([
        "create",
        "deployment",
        "web",
        "--image=nginx:1.25",
        "--replicas=0",
        "-v=8",
      ]);
      expect(created.stdout).toBe("deployment.apps/web created\n");
      expect(created.code).toBe(0);
      expect(created.stderr).toMatch(/Accept: application\/vnd\.kubernetes\.protobuf,application\/json/);
      expect(created.stderr).toMatch(PROTOBUF_RESPONSE);
      const stored = await c.client.get<KubeObject & { spec: { replicas: number } }>(
        "deployments.apps",
        "default",
        "web",
      );
      expect(stored.spec.replicas).toBe(0);

      for (const [args, out] of [
        [["create", "namespace", "team"], "namespace/team created\n"],
        [["create", "configmap", "cfg", "--from-literal=a=1"], "configmap/cfg created\n"],
        [["create", "secret", "generic", "pw", "--from-literal=pw=s3"], "secret/pw created\n"],
        [["create", "service", "clusterip", "web", "--tcp=80:8080"], "service/web created\n"],
      ] as const) {
        const r = await c.kubectl([...args, "-v=8"]);
        expect(r.stdout).toBe(out);
        expect(r.stderr).toMatch(PROTOBUF_RESPONSE);
      }
    });

    test("describe and rollout history read the Deployment, ReplicaSets and Events in protobuf", async () => {
      const describe = await c.kubectl(["describe", "deployment", "web", "-v=8"]);
      expect(describe.code).toBe(0);
      expect(describe.stdout).toMatch(/Name:\s+web\nNamespace:\s+default/);
      expect(describe.stdout).toMatch(/Replicas:\s+0 desired/);
      expect(describe.stderr).toMatch(PROTOBUF_RESPONSE);
      const history = await c.kubectl(["rollout", "history", "deployment/web"]);
      expect(history.code).toBe(0);
      expect(history.stdout).toContain("REVISION");
    });

    test("an error comes back as a Status kubectl reads; a kind answered in JSON still works", async () => {
      const exists = await c.kubectl(["create", "configmap", "cfg", "--from-literal=a=2"]);
      expect(exists.code).toBe(1);
      expect(exists.stderr).toBe('error: failed to create configmap: configmaps "cfg" already exists\n');
      // SelfSubjectAccessReview's status has no description: JSON, which kubectl also takes
      const canI = await c.kubectl(["auth", "can-i", "create", "pods"]);
      expect(canI.stdout).toBe("yes\n");
    });
  },
);
