import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { HorizontalPodAutoscaler } from "kubernetes-types/autoscaling/v2";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import {
  deploymentManifest,
  hpaManifest,
  listAll,
  startTestCluster,
  type TestCluster,
} from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

function deployment(requests?: Record<string, string>): KubeObject {
  return deploymentManifest("php", {
    container: { name: "php", image: "php:8", ...(requests ? { resources: { requests } } : {}) },
  });
}

const hpa = hpaManifest("php", { behavior: { scaleDown: { stabilizationWindowSeconds: 1 } } });

type H = Kube<HorizontalPodAutoscaler>;

async function replicas(): Promise<number | undefined> {
  return (await cluster.client.get<Kube<Deployment>>("deployments.apps", "default", "php")).spec?.replicas;
}

async function status() {
  return (await cluster.client.get<H>("horizontalpodautoscalers.autoscaling", "default", "php")).status;
}

describe("horizontal pod autoscaler", () => {
  test("scales out under load and back in after the stabilization window", async () => {
    let usage = 100; // millicores per pod, against a 100m request and a 50% target
    cluster = await startTestCluster({ metrics: { podCpuMillis: async () => usage }, hpaSyncPeriodMs: 100 });
    await cluster.client.create("deployments.apps", deployment({ cpu: "100m" }));
    await cluster.client.create("horizontalpodautoscalers.autoscaling", hpa);
    await waitFor(async () => (await replicas()) === 4, { what: "scaled out to maxReplicas" });
    await waitFor(
      async () =>
        (await listAll<Kube<Pod>>(cluster.client, "pods")).filter((p) => p.status?.phase === "Running")
          .length === 4,
    );
    const out = await waitFor(async () => {
      const s = await status();
      return s?.currentReplicas === 4 ? s : undefined;
    });
    expect(out.currentMetrics?.[0]?.resource?.current).toEqual({
      averageUtilization: 100,
      averageValue: "100m",
    });
    expect(out.lastScaleTime).toBeDefined();
    expect(out.conditions?.find((c) => c.type === "ScalingActive")).toMatchObject({
      status: "True",
      reason: "ValidMetricFound",
    });
    expect(out.conditions?.find((c) => c.type === "ScalingLimited")).toMatchObject({
      status: "True",
      reason: "TooManyReplicas",
    });
    const rescale = await waitFor(async () =>
      (await listAll(cluster.client, "events")).find((e) => e.reason === "SuccessfulRescale"),
    );
    expect(rescale.message).toMatch(
      /^New size: [24]; reason: cpu resource utilization \(percentage of request\) above target$/,
    );

    usage = 5;
    const started = Date.now();
    await waitFor(async () => (await replicas()) === 1, { what: "scaled back in", timeoutMs: 5000 });
    // Not before the 1 s window has passed.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const events = await waitFor(async () => {
      const list = (await listAll(cluster.client, "events")).filter((e) => e.reason === "SuccessfulRescale");
      return list.find((e) => e.message === "New size: 1; reason: All metrics below target");
    });
    expect(events.type).toBe("Normal");
  });

  test("pods without CPU requests: ScalingActive False with the reason", async () => {
    cluster = await startTestCluster({ metrics: { podCpuMillis: async () => 50 }, hpaSyncPeriodMs: 100 });
    await cluster.client.create("deployments.apps", deployment());
    await cluster.client.create("horizontalpodautoscalers.autoscaling", hpa);
    const cond = await waitFor(
      async () =>
        (await status())?.conditions?.find(
          (c) => c.type === "ScalingActive" && c.message?.includes("missing request"),
        ),
      { what: "ScalingActive False for the missing request" },
    );
    expect(cond.status).toBe("False");
    expect(cond.reason).toBe("FailedGetResourceMetric");
    expect(cond.message).toMatch(/missing request for cpu in container php of Pod php-/);
    expect(await replicas()).toBe(1);
  });
});
