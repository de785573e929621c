import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../support/env.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

const MANIFEST = join(import.meta.dir, "../../examples/nginx-deployment.yaml");

/**
 * The issue-2 flow through the compiled binary: `minik up`, `minik apply -f` of the article's
 * manifest (extensions/v1beta1, verbatim), then `minik get` and the real kubectl read it back.
 */
describe.skipIf(!existsSync(BINARY))("compiled binary: control plane", () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon(["--runtime", "none"]);
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    removeDir(d?.dataDir);
  });

  test("apply of the legacy manifest creates a Deployment, a ReplicaSet and two pods", async () => {
    const applied = await d.minik(["apply", "-f", MANIFEST]);
    // every Warning header on stderr, once, as kubectl prints them
    expect(applied.stderr).toBe(
      "Warning: extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment\n",
    );
    expect(applied.stdout.trim()).toBe("deployment.apps/nginx-deployment created");

    const pods = await waitFor(
      async () => {
        const r = await d.minik(["get", "pods", "-o", "name"]);
        const names = r.stdout.trim().split("\n").filter(Boolean);
        return names.length === 2 ? names : undefined;
      },
      { what: "two pods" },
    );
    for (const p of pods)
      expect(p).toMatch(/^pod\/nginx-deployment-[a-z0-9]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);

    const deploy = await d.minik(["get", "deployments"]);
    const lines = deploy.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines[1]).toMatch(/^nginx-deployment\s+0\/2\s+2\s+0\s+\d+s$/);

    // without a runtime the pods say why they are Pending
    const podList = JSON.parse((await d.minik(["get", "pods", "-o", "json"])).stdout).items;
    const scheduled = await waitFor(
      async () => {
        const p = JSON.parse((await d.minik(["get", "pod", podList[0].metadata.name, "-o", "json"])).stdout);
        return p.status?.conditions?.find((c: { type: string }) => c.type === "PodScheduled");
      },
      { what: "PodScheduled condition" },
    );
    expect(scheduled).toMatchObject({ status: "False", reason: "Unschedulable" });
    expect(scheduled.message).toContain("not-ready");
    const node = JSON.parse((await d.minik(["get", "nodes", "-o", "json"])).stdout).items[0];
    const ready = node.status.conditions.find((c: { type: string }) => c.type === "Ready");
    expect(ready.message).toContain("no container runtime");

    const rs = await d.minik(["get", "rs", "-o", "json"]);
    const list = JSON.parse(rs.stdout);
    expect(list.items).toHaveLength(1);
    expect(list.items[0].metadata.ownerReferences[0]).toMatchObject({
      kind: "Deployment",
      name: "nginx-deployment",
      controller: true,
    });
  });

  test("minik get -w and kubectl get -w stream changes as they happen", async () => {
    const kubeconfig = join(d.dataDir, "kubeconfig");
    const watchers = [
      Bun.spawn([BINARY, "get", "deployments", "-w"], { env: d.env, stdout: "pipe" }),
      Bun.spawn(
        [
          "kubectl",
          "--kubeconfig",
          kubeconfig,
          "--cache-dir",
          join(d.dataDir, "kcache-w"),
          "get",
          "deployments",
          "-w",
        ],
        {
          stdout: "pipe",
        },
      ),
    ];
    const outputs = watchers.map((w) => {
      const state = { text: "" };
      void (async () => {
        const reader = w.stdout.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          state.text += new TextDecoder().decode(value);
        }
      })();
      return state;
    });
    try {
      await waitFor(() => outputs.every((o) => /nginx-deployment\s+0\/2/.test(o.text)), {
        what: "the initial rows",
      });
      expect((await d.minik(["scale", "deployment/nginx-deployment", "--replicas", "3"])).code).toBe(0);
      await waitFor(() => outputs.every((o) => /nginx-deployment\s+0\/3/.test(o.text)), {
        what: "rows for the scaled deployment",
      });
      expect((await d.minik(["scale", "deployment/nginx-deployment", "--replicas", "2"])).code).toBe(0);
    } finally {
      for (const w of watchers) w.kill();
    }
  });

  test("the token is required, and curl with it gets Kubernetes-shaped JSON", async () => {
    const anon = await fetch(`${d.url}/api/v1/namespaces/default/pods`);
    expect(anon.status).toBe(401);
    expect((await anon.json()).kind).toBe("Status");
    const token = (await Bun.file(join(d.dataDir, "token")).text()).trim();
    const res = await fetch(`${d.url}/apis/apps/v1/namespaces/default/deployments/nginx-deployment`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const dep = await res.json();
    expect(dep.apiVersion).toBe("apps/v1");
    expect(dep.kind).toBe("Deployment");
    expect(dep.spec.replicas).toBe(2);
    const version = await (await fetch(`${d.url}/version`)).json();
    expect(version).toMatchObject({ major: "1", minor: "32" });
  });

  test("the real kubectl reads deployments, replicasets and pods", async () => {
    const kubeconfig = join(d.dataDir, "kubeconfig.test");
    writeFileSync(kubeconfig, (await d.minik(["kubeconfig"])).stdout);
    const p = Bun.spawn(
      [
        "kubectl",
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        join(d.dataDir, "kcache"),
        "get",
        "deployments,replicasets,pods",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/deployment\.apps\/nginx-deployment\s+0\/2\s+2\s+0/);
    expect(out).toMatch(/replicaset\.apps\/nginx-deployment-\w+\s+2\s+2\s+0/);
    expect(out.match(/pod\/nginx-deployment-\w+-\w{5}\s+0\/1\s+Pending/g)).toHaveLength(2);
  });

  test("a YAML syntax error names file, line and column and applies nothing", async () => {
    const bad = join(d.dataDir, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
    );
    const r = await d.minik(["apply", "-f", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/line \d+, column \d+/);
    const cm = await d.minik(["get", "configmap", "good"]);
    expect(cm.code).toBe(1);
  });

  test("minik dashboard's one-time link opens the status page once and hands the page a session for its API reads", async () => {
    const link = (await d.minik(["dashboard"])).stdout.trim();
    expect(link).toStartWith(`${d.url}/login?code=`);
    const login = await fetch(link, { redirect: "manual" });
    expect(login.status).toBe(302);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect(login.headers.get("set-cookie")).toContain("HttpOnly");
    const session = login.headers.get("location")!.replace("/#minik-session=", "");
    const page = await fetch(`${d.url}/`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("<h2>Deployments</h2>");
    expect(html).toContain("nginx-deployment"); // the first paint's rows
    // the first-paint code is spent: the same cookie again gets the shell without rows
    const again = await (await fetch(`${d.url}/`, { headers: { Cookie: cookie } })).text();
    expect(again).not.toContain("nginx-deployment");
    const pods = await fetch(`${d.url}/api/v1/pods`, { headers: { "X-Minik-Session": session } });
    expect((await pods.json()).items.length).toBe(2);
    expect((await fetch(link, { redirect: "manual" })).status).toBe(401);
    expect((await fetch(`${d.url}/api/v1/pods`)).status).toBe(401);
  });

  test("kubectl --server with plain HTTP works against an --anonymous loopback minik", async () => {
    const anon = await startDaemon(["--runtime", "none", "--anonymous"]);
    try {
      const p = Bun.spawn(
        ["kubectl", "--server", anon.url, "--cache-dir", join(anon.dataDir, "kcache"), "get", "namespaces"],
        {
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect(code).toBe(0);
      expect(out).toMatch(/^default\s+Active/m);
    } finally {
      await anon.stop();
      removeDir(anon.dataDir);
    }
  }, 30_000);

  test("delete -l and --all remove exactly the matching objects", async () => {
    const cm = (name: string, tier: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels: {tier: ${tier}}\ndata: {k: v}\n`;
    await d.apply("cms", [cm("cm-a", "web"), cm("cm-b", "web"), cm("cm-c", "db")].join("---\n"));
    const byLabel = await d.minik(["delete", "configmaps", "-l", "tier=web"]);
    expect(byLabel.stdout).toContain("configmap/cm-a deleted");
    expect(byLabel.stdout).toContain("configmap/cm-b deleted");
    const left = (await d.getJson(["configmaps", "-l", "tier"])).items.map((o: any) => o.metadata.name);
    expect(left).toEqual(["cm-c"]);
    const all = await d.minik(["delete", "configmaps", "--all"]);
    expect(all.stdout).toContain("configmap/cm-c deleted");
    expect((await d.getJson(["configmaps", "-l", "tier"])).items).toHaveLength(0);
  });
});
