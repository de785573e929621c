import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

/**
 * Issue 11 through the compiled binary on real containers: a pod running the real static kubectl
 * 1.32 with in-cluster config (token volume, ca.crt, KUBERNETES_SERVICE_HOST through the
 * `kubernetes` Service) is Forbidden until a RoleBinding grants it `view`, still cannot read
 * Secrets, `kubectl create token` mints a JWT the API accepts (and refuses once its pod is gone),
 * two clients contend for a Lease with optimistic concurrency, and the node's lease is renewed.
 */
const KUBECTL_132 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";
const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e in-cluster", "needs root and crun") ||
  skipUnless(!!testImages, "e2e in-cluster", testImagesMissing) ||
  skipUnless(
    existsSync(KUBECTL_132) && !!Bun.which("kubectl"),
    "e2e in-cluster",
    `needs ${KUBECTL_132} and kubectl`,
  );

const image = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;

const MANIFEST = () => `apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: Pod
metadata: {name: kc, namespace: team}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: kc
    image: ${image()}
    command: [sleep, "3600"]
    volumeMounts:
    - {name: kubectl, mountPath: /kubectl, readOnly: true}
  volumes:
  - name: kubectl
    hostPath: {path: ${KUBECTL_132}, type: File}
`;

describe.skipIf(skip)("software inside the cluster (e2e)", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  const kubectl = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const p = Bun.spawn(["kubectl", "--kubeconfig", join(dataDir, "kubeconfig"), ...args], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, HOME: dataDir, ...extraEnv },
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(p.stdout).text(),
      new Response(p.stderr).text(),
      p.exited,
    ]);
    return { code, stdout: stdout.trim(), stderr: stderr.trim() };
  };
  /** Runs the in-cluster kubectl in the pod (HOME=/tmp so its discovery cache is writable). */
  const inPod = (args: string) =>
    kubectl(["exec", "-n", "team", "kc", "--", "sh", "-c", `HOME=/tmp /kubectl ${args}`]);

  beforeAll(async () => {
    dataDir = nodeDataDir("incluster");
    d = await startDaemon([], dataDir);
    await d.apply("kc", MANIFEST());
    await waitFor(async () => (await d!.getJson(["pods", "kc", "-n", "team"])).status?.phase === "Running", {
      timeoutMs: 60_000,
      what: "the kubectl pod Running",
    });
  }, 120_000);

  afterAll(async () => {
    if (d) {
      await d.minik(["delete", "namespace", "team", "--wait=false"]).catch(() => {});
      await d.stop();
    }
    if (dataDir && existsSync(dataDir)) {
      Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
      removeDir(dataDir);
    }
  }, 90_000);

  test("the pod gets the token volume and the kubernetes Service's env", async () => {
    const r = await kubectl([
      "exec",
      "-n",
      "team",
      "kc",
      "--",
      "sh",
      "-c",
      "ls /var/run/secrets/kubernetes.io/serviceaccount; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual(["ca.crt", "namespace", "token", "team", "10.96.0.1:443"]);
    const pod = await d!.getJson(["pods", "kc", "-n", "team"]);
    expect(
      pod.spec.volumes
        .map((v: { name: string }) => v.name)
        .some((n: string) => n.startsWith("kube-api-access-")),
    ).toBe(true);
  });

  test("Forbidden until a RoleBinding grants view; Secrets stay forbidden", async () => {
    const denied = await inPod("get pods");
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      'pods is forbidden: User "system:serviceaccount:team:default" cannot list resource "pods" in API group "" in the namespace "team"',
    );
    const bound = await kubectl([
      "create",
      "rolebinding",
      "kc-view",
      "--clusterrole=view",
      "--serviceaccount=team:default",
      "-n",
      "team",
    ]);
    expect(bound.stderr).toBe("");
    const allowed = await inPod("get pods -o name");
    expect(allowed).toMatchObject({ code: 0, stdout: "pod/kc" });
    const secrets = await inPod("get secrets");
    expect(secrets.stderr).toContain(
      'secrets is forbidden: User "system:serviceaccount:team:default" cannot list resource "secrets" in API group "" in the namespace "team"',
    );
    const canI = await kubectl([
      "auth",
      "can-i",
      "list",
      "pods",
      "-n",
      "team",
      "--as=system:serviceaccount:team:default",
    ]);
    expect(canI.stdout).toBe("yes");
  });

  test("kubectl create token returns a JWT the API accepts, until its pod is gone", async () => {
    const free = await kubectl(["create", "token", "default", "-n", "team"]);
    expect(free.stdout.split(".")).toHaveLength(3);
    const whoami = await kubectl([
      "auth",
      "whoami",
      "--token",
      free.stdout,
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    expect(whoami.stdout).toBe("system:serviceaccount:team:default");

    await d!.apply("kc2", MANIFEST().split("---\n")[1]!.replace("name: kc,", "name: kc2,"));
    const bound = await kubectl([
      "create",
      "token",
      "default",
      "-n",
      "team",
      "--bound-object-kind=Pod",
      "--bound-object-name=kc2",
    ]);
    expect(bound.code).toBe(0);
    expect((await kubectl(["get", "pods", "-n", "team", "--token", bound.stdout, "-o", "name"])).code).toBe(
      0,
    );
    await kubectl(["delete", "pod", "kc2", "-n", "team", "--grace-period=0", "--force"]);
    await waitFor(async () => (await kubectl(["get", "pod", "kc2", "-n", "team"])).code !== 0, {
      what: "kc2 gone",
    });
    const refused = await kubectl(["get", "pods", "-n", "team", "--token", bound.stdout]);
    expect(refused.stderr).toContain("Unauthorized");
  });

  test("two clients contend for a Lease: exactly one write of the same version wins", async () => {
    const role = await kubectl([
      "create",
      "role",
      "leases",
      "--verb=get,list,watch,create,update",
      "--resource=leases.coordination.k8s.io",
      "-n",
      "team",
    ]);
    expect(role.stderr).toBe("");
    await kubectl([
      "create",
      "rolebinding",
      "kc-leases",
      "--role=leases",
      "--serviceaccount=team:default",
      "-n",
      "team",
    ]);
    const lease = (holder: string, rv = "") =>
      `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"leader","namespace":"team"${rv ? `,"resourceVersion":"${rv}"` : ""}},"spec":{"holderIdentity":"${holder}","leaseDurationSeconds":15}}`;
    const created = await inPod(`create -f - <<'EOF'\n${lease("pod")}\nEOF`);
    expect(created.stdout).toContain("lease.coordination.k8s.io/leader created");
    const rv = (
      await kubectl(["get", "lease", "leader", "-n", "team", "-o", "jsonpath={.metadata.resourceVersion}"])
    ).stdout;
    // both saw the same version; the pod takes it first, the host's write is then stale
    const podWrite = await inPod(`replace -f - <<'EOF'\n${lease("pod-again", rv)}\nEOF`);
    expect(podWrite.code).toBe(0);
    const hostWrite = Bun.spawn(
      ["kubectl", "--kubeconfig", join(dataDir, "kubeconfig"), "replace", "-f", "-"],
      {
        stdin: new Blob([lease("host", rv)]),
        stderr: "pipe",
        stdout: "pipe",
        env: { ...process.env, HOME: dataDir },
      },
    );
    const stderr = await new Response(hostWrite.stderr).text();
    expect(await hostWrite.exited).not.toBe(0);
    expect(stderr).toContain("the object has been modified");
    const holder = await kubectl([
      "get",
      "lease",
      "leader",
      "-n",
      "team",
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
    expect(holder.stdout).toBe("pod-again");
  });

  test("a projected token is renewed in the running container, and the new one is accepted", async () => {
    const read = async () =>
      (
        await kubectl([
          "exec",
          "-n",
          "team",
          "kc",
          "--",
          "cat",
          "/var/run/secrets/kubernetes.io/serviceaccount/token",
        ])
      ).stdout;
    const first = await read();
    expect(first.split(".")).toHaveLength(3);
    // the agent renews every token once after it starts (then at 80 % of each token's life)
    const renewed = await waitFor(
      async () => {
        const now = await read();
        return now !== first ? now : undefined;
      },
      { timeoutMs: 80_000, intervalMs: 1000, what: "a renewed token file" },
    );
    const whoami = await kubectl([
      "auth",
      "whoami",
      "--token",
      renewed,
      "-o",
      "jsonpath={.status.userInfo.username}",
    ]);
    expect(whoami.stdout).toBe("system:serviceaccount:team:default");
  }, 90_000);

  test("the node's lease is renewed and kubectl describe node shows it", async () => {
    const node = (await kubectl(["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"])).stdout;
    const renewTime = async () =>
      (await kubectl(["get", "lease", node, "-n", "kube-node-lease", "-o", "jsonpath={.spec.renewTime}"]))
        .stdout;
    const first = await renewTime();
    expect(first).not.toBe("");
    await waitFor(async () => (await renewTime()) !== first, {
      timeoutMs: 15_000,
      what: "a renewed node lease",
    });
    const described = await kubectl(["describe", "node", node]);
    expect(described.stdout).toContain(`HolderIdentity:  ${node}`);
    expect(described.stdout).not.toContain("Failed to get lease");
  }, 30_000);
});
