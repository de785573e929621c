import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { skipUnless } from "../support/env.ts";
import { type Cluster, startCluster } from "./harness.ts";

const PYTHON = "/usr/bin/python3";
const hasPythonClient =
  Bun.spawnSync([PYTHON, "-c", "import kubernetes"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/** Debian's python3-kubernetes against a real minik API server: version, list, watch=True. */
const SCRIPT = `
import json, kubernetes
from kubernetes import client, config, watch
config.load_kube_config()
out = {"version": client.VersionApi().get_code().git_version}
v1 = client.CoreV1Api()
v1.create_namespaced_config_map("default", {"metadata": {"name": "py"}, "data": {"a": "1"}})
out["list"] = [cm.metadata.name for cm in v1.list_namespaced_config_map("default").items]
events = []
for e in watch.Watch().stream(v1.list_namespaced_config_map, "default", timeout_seconds=2):
    events.append([e["type"], e["object"].metadata.name])
out["watch"] = events
print(json.dumps(out))
`;

let c: Cluster;

describe.skipIf(skipUnless(hasPythonClient, "python client", "needs Debian's python3-kubernetes"))(
  "the official Python client",
  () => {
    beforeAll(async () => {
      c = await startCluster({ controllers: false, kubelet: false });
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("reads the version, lists and watches", async () => {
      const proc = Bun.spawn([PYTHON, "-c", SCRIPT], {
        env: { PATH: "/usr/bin:/bin", HOME: c.dir, KUBECONFIG: join(c.dir, "kubeconfig") },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      const out = JSON.parse(stdout);
      expect(out.version).toStartWith("v1.32.");
      expect(out.list).toEqual(["py"]);
      expect(out.watch).toEqual([["ADDED", "py"]]);
    }, 20_000);
  },
);
