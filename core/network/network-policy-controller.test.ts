import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { Controller } from "../controllers/controller.ts";
import { createInformers, type Informers } from "../controllers/informer.ts";
import { testControllerContext } from "../controllers/testing/test-kit.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createFakePolicyEnforcer, type FakePolicyEnforcer } from "../seams/testing/fake-policy-enforcer.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createNetworkPolicyController } from "./network-policy-controller.ts";

let store: Store;
let registry: Registry;
let informers: Informers;
let controller: Controller;
let enforcer: FakePolicyEnforcer;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store);
  await registry.bootstrap();
  enforcer = createFakePolicyEnforcer();
  informers = createInformers(registry);
  controller = createNetworkPolicyController(testControllerContext(registry, informers), enforcer);
  await informers.start();
  controller.start();
});
afterEach(async () => {
  await controller.stop();
  informers.stop();
  await store.close();
});

async function runningPod(name: string, ip: string, labels: Record<string, string>): Promise<void> {
  const created = (await registry.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  } as KubeObject)) as Pod & KubeObject;
  await registry.updateStatus("pods", { ...created, status: { phase: "Running", podIP: ip } } as KubeObject);
}

const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name, namespace: "default" },
  spec,
});
const R = "networkpolicies.networking.k8s.io";
const b2a = () => enforcer.allows({ from: "10.88.0.3", to: "10.88.0.2", protocol: "TCP", port: 80 });
const c2a = () => enforcer.allows({ from: "10.88.0.4", to: "10.88.0.2", protocol: "TCP", port: 80 });

describe("network-policy controller", () => {
  test("follows policies and pods: default deny, an allow rule, a new pod, deletion", async () => {
    await waitFor(() => enforcer.syncs > 0, { what: "the first sync (clears a stale table)" });
    expect(enforcer.policies).toEqual([]);
    await runningPod("a", "10.88.0.2", { app: "web" });
    await runningPod("b", "10.88.0.3", { app: "client" });
    await registry.create(R, policy("deny", { podSelector: {} }));
    await waitFor(() => !b2a(), { what: "default deny to isolate a" });
    await registry.create(
      R,
      policy("allow", {
        podSelector: { matchLabels: { app: "web" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }],
      }),
    );
    await waitFor(() => b2a(), { what: "the allow rule to reopen b→a" });
    // A pod that appears later is judged by the same rules: c is not a client.
    await runningPod("c", "10.88.0.4", { app: "other" });
    await waitFor(() => enforcer.policies[1]?.pods.includes("10.88.0.4"), { what: "c under default deny" });
    expect(c2a()).toBe(false);
    await registry.delete(R, "default", "deny");
    await registry.delete(R, "default", "allow");
    await waitFor(() => enforcer.policies.length === 0, { what: "policies gone" });
    expect(c2a()).toBe(true);
  });

  test("an unchanged world is not re-applied", async () => {
    await registry.create(R, policy("deny", { podSelector: {} }));
    await waitFor(() => enforcer.policies.length === 1, { what: "the policy" });
    const before = enforcer.syncs;
    await controller.reconcile("node");
    await controller.reconcile("node");
    expect(enforcer.syncs).toBe(before);
  });
});
