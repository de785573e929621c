import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e rollout", "needs root and crun") ||
  skipUnless(!!testImages, "e2e rollout", testImagesMissing);

const manifest = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: ${image}
        ports: [{containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80}]
`;

/**
 * Issue 5's rollout: `minik set image` moves two replicas from v1 to v2 while a client polls
 * through the Service and never goes without an answer; `minik rollout undo` returns to v1
 * reusing the first ReplicaSet.
 */
describe.skipIf(skip)("compiled binary: rolling update and rollback", () => {
  let d: Daemon;
  let dataDir: string;
  const v1 = () => `${testImages!.registries.plain.host}/minik-test/httpd:1`;
  const v2 = () => `${testImages!.registries.plain.host}/minik-test/httpd:2`;

  beforeAll(async () => {
    dataDir = nodeDataDir("roll");
    d = await startDaemon([], dataDir);
    writeFileSync(join(dataDir, "web.yaml"), manifest(v1()));
    expect((await d.minik(["apply", "-f", join(dataDir, "web.yaml")])).code).toBe(0);
    const status = await d.minik(["rollout", "status", "deployment/web", "--timeout", "60"]);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
  }, 90_000);
  afterAll(async () => {
    if (d) {
      await d.minik(["delete", "-f", join(dataDir, "web.yaml"), "--ignore-not-found"]);
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("set image rolls to v2 with the Service answering throughout; undo returns to v1 on the first ReplicaSet", async () => {
    const svc = JSON.parse((await d.minik(["get", "svc", "web", "-o", "json"])).stdout);
    const url = `http://127.0.0.1:${svc.spec.ports[0].nodePort}/`;
    await waitFor(async () => (await fetch(url).catch(() => undefined))?.ok, { what: "service answering" });
    const firstRs = JSON.parse((await d.minik(["get", "rs", "-o", "json"])).stdout).items[0].metadata.name;

    let polling = true;
    const answers: string[] = [];
    let failures = 0;
    const poller = (async () => {
      while (polling) {
        try {
          const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
          const body = (await r.text()).trim();
          // a 5xx (or any non-2xx) during the rollout is downtime, not an answer
          if (r.ok) answers.push(body);
          else failures++;
        } catch {
          failures++;
        }
        await Bun.sleep(20);
      }
    })();

    expect((await d.minik(["set", "image", "deployment/web", `httpd=${v2()}`])).code).toBe(0);
    const rolled = await d.minik(["rollout", "status", "deployment/web", "--timeout", "90"]);
    expect(rolled.stdout).toContain("successfully rolled out");
    await waitFor(async () => (await (await fetch(url)).text()).includes("v2"), { what: "v2 answering" });
    const undo = await d.minik(["rollout", "undo", "deployment/web"]);
    expect(undo.stdout).toContain("rolled back");
    expect((await d.minik(["rollout", "status", "deployment/web", "--timeout", "90"])).stdout).toContain(
      "successfully rolled out",
    );
    polling = false;
    await poller;

    expect(failures).toBe(0);
    expect(answers.some((a) => a.includes("v1"))).toBe(true);
    expect(answers.some((a) => a.includes("v2"))).toBe(true);
    const sets = JSON.parse((await d.minik(["get", "rs", "-o", "json"])).stdout).items;
    const active = sets.filter((rs: any) => rs.spec.replicas > 0);
    expect(active.map((rs: any) => rs.metadata.name)).toEqual([firstRs]);
    expect(active[0].metadata.annotations["deployment.kubernetes.io/revision"]).toBe("3");
    const history = await d.minik(["rollout", "history", "deployment/web"]);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
  }, 180_000);

  test("undo to a revision that does not exist is refused and changes nothing", async () => {
    const before = (await d.minik(["get", "deploy", "web", "-o", "json"])).stdout;
    const r = await d.minik(["rollout", "undo", "deployment/web", "--to-revision", "42"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unable to find specified revision 42 in history");
    const after = JSON.parse((await d.minik(["get", "deploy", "web", "-o", "json"])).stdout);
    expect(after.metadata.generation).toBe(JSON.parse(before).metadata.generation);
  });

  test("scaling to a negative number is refused", async () => {
    const r = await d.minik(["scale", "deployment/web", "--replicas=-1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/greater than or equal to 0/);
  });
});
