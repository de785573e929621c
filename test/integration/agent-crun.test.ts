import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { createNodeAgent, type NodeAgent } from "../../core/agent/agent.ts";
import { createEventRecorder } from "../../core/events.ts";
import type { KubeObject } from "../../core/object.ts";
import { createRegistry, type Registry } from "../../core/registry/registry.ts";
import type { ContainerRuntime } from "../../core/seams/container-runtime.ts";
import { createSqlStore } from "../../core/store/sql-store.ts";
import type { Store } from "../../core/store/store.ts";
import { BUSYBOX, createFixture, type Fixture } from "../../runtime/crun/testing/fixture.ts";
import { dialPod } from "../../runtime/net/dial.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";

/**
 * The node agent driving real crun containers (no pod network: pods get no IP here): the
 * agent's decisions and the runtime's facts must agree end to end.
 */
const NODE = "node-it";
type PodObject = Pod & KubeObject;

describe.skipIf(skipUnless(host.canRunContainers, "agent on crun", "needs root and crun"))(
  "node agent on crun",
  () => {
    let fx: Fixture;
    let store: Store;
    let client: Registry;
    let agent: NodeAgent;
    let runtime: ContainerRuntime;

    const makeAgent = (rt: ContainerRuntime) =>
      createNodeAgent({
        client,
        dial: dialPod,
        runtime: rt,
        nodeName: NODE,
        events: createEventRecorder(client, "kubelet", NODE),
        clusterDns: { nameserver: "10.96.0.10", searchDomain: "cluster.local" },
        hostIP: "127.0.0.1",
        log: () => {},
      });

    beforeAll(async () => {
      fx = await createFixture();
      store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
      client = createRegistry(store);
      await client.bootstrap();
      runtime = fx.rt;
      agent = makeAgent(runtime);
      await agent.start();
    });

    afterAll(async () => {
      await agent.stop();
      for (const p of (await client.list<PodObject>("pods")).items) {
        await client.delete("pods", "default", p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => {});
      }
      for (const s of await runtime.listPodSandboxes()) await runtime.removePodSandbox(s.podUid);
      await fx.cleanup();
      await store.close();
    });

    const cs = (p: Pod) => p.status?.containerStatuses?.[0] as ContainerStatus;
    async function waitPod(name: string, check: (p: Pod) => unknown, timeoutMs = 10_000): Promise<PodObject> {
      return waitFor(
        async () => {
          const p = await client.get<PodObject>("pods", "default", name);
          return check(p) ? p : undefined;
        },
        { timeoutMs, what: `pod ${name}` },
      );
    }
    function createPod(name: string, spec: Partial<NonNullable<Pod["spec"]>>) {
      return client.create<PodObject>("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default" },
        spec: { nodeName: NODE, containers: [], terminationGracePeriodSeconds: 2, ...spec },
      });
    }

    test("a pod runs with env and a configMap volume; logs, exec and readiness work", async () => {
      await client.create("configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "it-cfg", namespace: "default" },
        data: { greeting: "hello-from-configmap" },
      });
      await createPod("web", {
        containers: [
          {
            name: "app",
            image: BUSYBOX,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", "cat /etc/cfg/greeting; echo; echo pod=$POD_NAME; sleep 3600"],
            env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            volumeMounts: [{ name: "cfg", mountPath: "/etc/cfg" }],
            readinessProbe: { exec: { command: ["cat", "/etc/cfg/greeting"] }, periodSeconds: 1 },
          },
        ],
        volumes: [{ name: "cfg", configMap: { name: "it-cfg" } }],
      });
      const pod = await waitPod(
        "web",
        (p) => p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True",
      );
      expect(pod.status!.phase).toBe("Running");
      expect(cs(pod).containerID).toStartWith(`${runtime.name}://`);
      const logs = await waitFor(async () => {
        const text = await new Response(await agent.nodeServices.logs("default", "web", "app", {})).text();
        return text.includes("pod=web") ? text : undefined;
      });
      expect(logs).toContain("hello-from-configmap\npod=web\n");
      const session = await agent.nodeServices.exec("default", "web", "app", ["echo", "in-container"], {
        tty: false,
        stdin: false,
      });
      expect(await new Response(session.stdout).text()).toBe("in-container\n");
      expect(await session.exited).toBe(0);
    });

    test("a crashing container is restarted, then backs off", async () => {
      await createPod("crash", {
        containers: [
          {
            name: "app",
            image: BUSYBOX,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", "echo run; exit 3"],
          },
        ],
      });
      const pod = await waitPod("crash", (p) => cs(p)?.state?.waiting?.reason === "CrashLoopBackOff");
      expect(cs(pod).restartCount).toBe(1);
      expect(cs(pod).lastState?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
      const previous = await new Response(
        await agent.nodeServices.logs("default", "crash", "app", { previous: true }),
      ).text();
      expect(previous).toBe("run\n");
    });

    test("a missing binary is a terminated StartError (128) with crun's reason, restarted with back-off", async () => {
      await createPod("nobin", {
        containers: [
          { name: "app", image: BUSYBOX, imagePullPolicy: "IfNotPresent", command: ["/no/such/binary"] },
        ],
      });
      const pod = await waitPod("nobin", (p) => cs(p)?.state?.waiting?.reason === "CrashLoopBackOff");
      expect(cs(pod).restartCount).toBe(1);
      expect(cs(pod).lastState?.terminated).toMatchObject({ exitCode: 128, reason: "StartError" });
      expect(cs(pod).lastState?.terminated?.message).toMatch(
        /^failed to start container process: .*\/no\/such\/binary/,
      );
      // the status and its events are written one after the other: wait for the BackOff event
      const reasons = await waitFor(
        async () => {
          const all = (await client.list("events", { namespace: "default" })).items
            .filter((e) => (e.involvedObject as { name: string }).name === "nobin")
            .map((e) => `${e.reason}`);
          return all.includes("BackOff") ? all : undefined;
        },
        { what: "the BackOff event of nobin" },
      );
      expect(reasons).not.toContain("Started");
      await client.delete("pods", "default", "nobin", { gracePeriodSeconds: 0 });
    });

    test("a restarted agent adopts the running container; deletion stops and removes it", async () => {
      const before = await client.get<PodObject>("pods", "default", "web");
      const id = cs(before).containerID;
      await agent.stop();
      await runtime.close();
      runtime = fx.another();
      await runtime.start();
      agent = makeAgent(runtime);
      await agent.start();
      await agent.idle();
      const after = await client.get<PodObject>("pods", "default", "web");
      expect(cs(after).containerID).toBe(id);
      expect(cs(after).restartCount).toBe(0);
      const uid = after.metadata.uid!;
      expect((await runtime.listContainers()).filter((c) => c.podUid === uid)).toHaveLength(1);

      await client.delete("pods", "default", "web");
      await waitFor(async () => !(await client.tryGet("pods", "default", "web")), {
        what: "web removed",
        timeoutMs: 10_000,
      });
      expect((await runtime.listContainers()).some((c) => c.podUid === uid)).toBe(false);
      expect((await runtime.listPodSandboxes()).some((s) => s.podUid === uid)).toBe(false);
    });
  },
);
