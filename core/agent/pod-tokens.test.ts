import { afterEach, expect, test } from "bun:test";
import type { ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { SandboxConfig, SandboxStatus } from "../seams/container-runtime.ts";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const volumes = [
  {
    name: "kube-api-access",
    projected: {
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
      ],
    },
  },
  { name: "vault", projected: { sources: [{ serviceAccountToken: { path: "token", audience: "vault" } }] } },
];
const containers = [
  {
    name: "app",
    image: "busybox:1.36",
    volumeMounts: [
      { name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" },
      { name: "vault", mountPath: "/var/run/vault" },
    ],
  },
];

test("a new pod's tokens are signed while its sandbox is made, each once, and land in its volumes", async () => {
  const asked: string[] = [];
  const source = async (_pod: unknown, p: ServiceAccountTokenProjection) => {
    asked.push(p.audience ?? "api");
    return `token-for-${p.audience ?? "api"}`;
  };
  h = await startHarness({ serviceAccountToken: source });
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const made = h.fake.runPodSandbox.bind(h.fake);
  let sandboxes = 0;
  h.fake.runPodSandbox = async (config: SandboxConfig): Promise<SandboxStatus> => {
    sandboxes++;
    await held;
    return made(config);
  };
  await h.createPod("web", { volumes, containers });
  const deadline = Date.now() + 5000;
  while ((sandboxes === 0 || asked.length < 2) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  // both asked for while the sandbox is still being made
  expect(asked.sort()).toEqual(["api", "vault"]);
  release();
  const pod = await h.waitPod("web", (p) => p.status?.phase === "Running", "web Running");
  const [app] = await h.containersOf("web", "app");
  const mounts = Object.fromEntries(h.host.config(app!.id)!.mounts.map((m) => [m.volume, m.source]));
  expect(mounts["kube-api-access"]).toMatchObject({
    type: "files",
    files: { token: "token-for-api", namespace: "default" },
  });
  expect(mounts.vault).toMatchObject({ type: "files", files: { token: "token-for-vault" } });
  expect(asked).toHaveLength(2); // the prefetched requests were used, not repeated
  expect(pod.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
});

test("a token that cannot be had still fails the start, and the pod gets it on a later sync", async () => {
  let fail = true;
  let calls = 0;
  h = await startHarness({
    serviceAccountToken: async () => {
      calls++;
      if (fail) throw new Error('serviceaccounts "default" not found');
      return "late-token";
    },
  });
  await h.createPod("web", {
    volumes: [volumes[1]!],
    containers: [{ ...containers[0]!, volumeMounts: [containers[0]!.volumeMounts[1]!] }],
  });
  const deadline = Date.now() + 5000;
  while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await h.agent.idle(); // the failed sync is over (its retry waits on the manual clock)
  expect(await h.containersOf("web")).toHaveLength(0);
  fail = false;
  h.clock.advance(2_000); // the agent's retry after a failed sync
  await h.waitPod("web", (p) => p.status?.phase === "Running", "web Running after the retry");
  const [app] = await h.containersOf("web", "app");
  expect(h.host.config(app!.id)!.mounts[0]!.source).toMatchObject({ files: { token: "late-token" } });
});
