import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { HorizontalPodAutoscaler } from "kubernetes-types/autoscaling/v2";
import { waitFor } from "../../test/support/env.ts";
import { createJumpingClock } from "../loop/testing/jumping-clock.ts";
import type { Kube } from "./owner-references.ts";
import { deploymentManifest, hpaManifest, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

test("an HPA without behavior waits the default 300 s scale-down window, then scales in", async () => {
  const clock = createJumpingClock();
  let usage = 100; // millicores per pod against a 100m request and a 50 % target
  cluster = await startTestCluster({
    clock,
    metrics: { podCpuMillis: async () => usage },
    hpaSyncPeriodMs: 100,
  });
  const replicas = async () =>
    (await cluster.client.get<Kube<Deployment>>("deployments.apps", "default", "php")).spec?.replicas;
  await cluster.client.create(
    "deployments.apps",
    deploymentManifest("php", {
      container: { name: "php", image: "php:8", resources: { requests: { cpu: "100m" } } },
    }),
  );
  const hpa = hpaManifest("php", {});
  expect((hpa as Kube<HorizontalPodAutoscaler>).spec?.behavior).toBeUndefined();
  await cluster.client.create("horizontalpodautoscalers.autoscaling", hpa);
  await waitFor(async () => (await replicas()) === 4, { what: "scaled out to maxReplicas" });

  usage = 5;
  // many syncs (every 100 ms) with low usage: within the window nothing shrinks
  await new Promise((r) => setTimeout(r, 1500));
  clock.jump(290_000);
  await new Promise((r) => setTimeout(r, 500));
  expect(await replicas()).toBe(4);
  // past 300 s since the high recommendations: scale in
  clock.jump(15_000);
  await waitFor(async () => (await replicas()) === 1, { what: "scaled in after 300 s", timeoutMs: 5000 });
});
