import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { createJumpingClock } from "../loop/testing/jumping-clock.ts";
import type { RuntimeReadiness } from "./node-controller.ts";
import type { Kube } from "./owner-references.ts";
import { evictionDelayMs } from "./taint-eviction-controller.ts";
import { startTestCluster, TEST_NODE, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

const T = Date.parse("2026-12-06T12:00:00Z");
const notReady = {
  key: "node.kubernetes.io/not-ready",
  effect: "NoExecute",
  timeAdded: new Date(T).toISOString(),
};
const pod = (tolerations: NonNullable<Pod["spec"]>["tolerations"]): Pod => ({
  spec: { containers: [], tolerations },
});

test("eviction delay: untolerated at once, the shortest tolerationSeconds from timeAdded, unbounded keeps", () => {
  expect(evictionDelayMs(pod([]), [], T)).toBeUndefined();
  expect(evictionDelayMs(pod([]), [notReady], T)).toBe(0);
  const admitted = [{ key: notReady.key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }];
  expect(evictionDelayMs(pod(admitted), [notReady], T + 100_000)).toBe(200_000);
  expect(evictionDelayMs(pod(admitted), [notReady], T + 400_000)).toBe(0);
  expect(evictionDelayMs(pod([{ operator: "Exists" }]), [notReady], T + 10 ** 9)).toBeUndefined();
  // an unbounded toleration does not cancel a bounded one that matches too (getMinTolerationTime)
  expect(evictionDelayMs(pod([{ operator: "Exists" }, ...admitted]), [notReady], T)).toBe(300_000);
});

test("a node that turns NotReady is tainted NoExecute and its pods go after the default 300 s", async () => {
  const clock = createJumpingClock();
  let readiness: RuntimeReadiness = true;
  cluster = await startTestCluster({ clock, runtimeReady: () => readiness, nodeHeartbeatMs: 100 });
  const create = (name: string, extra: Partial<NonNullable<Pod["spec"]>> = {}) =>
    cluster.client.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: { containers: [{ name: "app", image: "busybox" }], ...extra },
    });
  await create("web");
  await create("stays", { tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }] });
  const get = (name: string) => cluster.client.tryGet<Kube<Pod>>("pods", "default", name);
  await waitFor(async () => (await get("web"))?.status?.phase === "Running", { what: "web running" });

  readiness = {
    ready: false,
    message: "node health checks failing 3 times in a row: network: bridge minik0 is gone",
  };
  const node = await waitFor(
    async () => {
      const n = await cluster.client.get<Kube<Node>>("nodes", "", TEST_NODE);
      return n.spec?.taints?.some((t) => t.effect === "NoExecute") ? n : undefined;
    },
    { what: "NoExecute taint" },
  );
  expect(node.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
    status: "False",
    reason: "KubeletNotReady",
    message: "node health checks failing 3 times in a row: network: bridge minik0 is gone",
  });
  // tolerated for 300 s (added at admission): still there a while later
  await new Promise((r) => setTimeout(r, 500));
  expect(await get("web")).toBeDefined();
  clock.jump(301_000);
  await waitFor(async () => (await get("web")) === undefined, { what: "web evicted" });
  expect(await get("stays")).toBeDefined();
  // events are written in batches, a moment after they are recorded
  await waitFor(
    async () =>
      (await cluster.client.list("events", { namespace: "default" })).items.some(
        (e) => e.reason === "TaintManagerEviction" && e.message === "Marking for deletion Pod default/web",
      ),
    { what: "the TaintManagerEviction event" },
  );

  readiness = true;
  await waitFor(
    async () => !(await cluster.client.get<Kube<Node>>("nodes", "", TEST_NODE)).spec?.taints?.length,
    { what: "taints lifted" },
  );
});
