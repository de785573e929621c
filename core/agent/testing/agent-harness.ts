import type { Pod, PodSpec } from "kubernetes-types/core/v1";
import { createEventRecorder } from "../../events.ts";
import { createManualClock, type ManualClock } from "../../loop/testing/manual-clock.ts";
import type { KubeObject } from "../../object.ts";
import { createRegistry, type Registry } from "../../registry/registry.ts";
import { FakeHost, FakeRuntime } from "../../seams/testing/fake-runtime.ts";
import { createSqlStore } from "../../store/sql-store.ts";
import type { Store } from "../../store/store.ts";
import { createNodeAgent, type NodeAgent } from "../agent.ts";
import type { TokenSource } from "../volumes.ts";

/**
 * A node agent wired to the real registry over an in-memory SqlStore and a FakeRuntime on a
 * manual clock — what the agent tests drive. Not used outside tests.
 */
export const NODE = "node-1";

export interface Harness {
  store: Store;
  client: Registry;
  clock: ManualClock;
  host: FakeHost;
  fake: FakeRuntime;
  agent: NodeAgent;
  createPod(name: string, spec: Partial<PodSpec>, meta?: Record<string, unknown>): Promise<Pod & KubeObject>;
  getPod(name: string): Promise<Pod & KubeObject>;
  waitPod(name: string, check: (pod: Pod) => unknown, what?: string): Promise<Pod & KubeObject>;
  /** A second agent over the same fake host (a restarted minik). */
  restartAgent(): Promise<void>;
  eventReasons(name: string): Promise<string[]>;
  eventMessages(name: string): Promise<string[]>;
  /** Waits until the pod has every one of these `Reason: message` events (events are written asynchronously). */
  waitEvents(name: string, ...expected: string[]): Promise<string[]>;
  /** The runtime containers of a pod, oldest attempt first. */
  containersOf(name: string, container?: string): Promise<ReturnType<FakeHost["find"]>[]>;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    dial?: (ip: string, port: number) => Promise<never>;
    host?: FakeHost;
    serviceAccountToken?: TokenSource;
  } = {},
): Promise<Harness> {
  const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  const clock = createManualClock(Date.now());
  const host = opts.host ?? new FakeHost(clock);
  let fake = new FakeRuntime({ host });
  const events = createEventRecorder(client, "kubelet", NODE);
  const make = () =>
    createNodeAgent({
      client,
      runtime: fake,
      nodeName: NODE,
      events,
      clusterDns: { nameserver: "10.96.0.10", searchDomain: "cluster.local" },
      hostIP: "192.168.7.2",
      clock,
      dial: opts.dial ?? (async () => Promise.reject(new Error("connect: connection refused"))),
      log: () => {},
      resyncIntervalMs: 3_600_000,
      nodeAllocatable: { cpuMillis: 2000, memoryBytes: 4 << 30 },
      ...(opts.serviceAccountToken ? { serviceAccountToken: opts.serviceAccountToken } : {}),
    });
  await fake.start();
  let agent = make();
  await agent.start();

  const h: Harness = {
    store,
    client,
    clock,
    host,
    get fake() {
      return fake;
    },
    get agent() {
      return agent;
    },
    async createPod(name, spec, meta = {}) {
      return client.create<Pod & KubeObject>("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", ...meta },
        spec: { nodeName: NODE, containers: [{ name: "app", image: "busybox:1.36" }], ...spec },
      });
    },
    getPod: (name) => client.get<Pod & KubeObject>("pods", "default", name),
    async waitPod(name, check, what = `pod ${name}`) {
      // (test/support/env.ts's waitFor pulls in a child-process module, which core/ must not import.)
      const deadline = Date.now() + 5000;
      let last: Pod | undefined;
      for (;;) {
        last = await client.tryGet<Pod & KubeObject>("pods", "default", name);
        if (last && check(last)) return last as Pod & KubeObject;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(last?.status)}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async restartAgent() {
      await agent.stop();
      await fake.close();
      fake = new FakeRuntime({ host });
      await fake.start();
      agent = make();
      await agent.start();
    },
    async eventReasons(name) {
      const { items } = await client.list("events", { namespace: "default" });
      return items
        .filter((e) => (e.involvedObject as { name: string }).name === name)
        .map((e) => e.reason as string);
    },
    async eventMessages(name) {
      const { items } = await client.list("events", { namespace: "default" });
      return items
        .filter((e) => (e.involvedObject as { name: string }).name === name)
        .map((e) => `${e.reason}: ${e.message}`);
    },
    async waitEvents(name, ...expected) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const messages = await h.eventMessages(name);
        if (expected.every((e) => messages.includes(e))) return messages;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for events ${JSON.stringify(expected)} of ${name}; have ${JSON.stringify(messages)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async containersOf(name, container) {
      const pod = await client.tryGet("pods", "default", name);
      const uid = pod?.metadata.uid;
      return [...host.containers.values()]
        .map((c) => c.status)
        .filter((s) => s.podUid === uid && (!container || s.name === container))
        .sort((a, b) => a.attempt - b.attempt);
    },
    async close() {
      await agent.stop();
      await fake.close();
      await store.close();
    },
  };
  return h;
}
