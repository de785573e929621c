import type { Endpoints, Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { type Controller, type ControllerContext, createController } from "../controllers/controller.ts";
import type { KubeObject } from "../object.ts";
import type { ProxyWarning, ServiceProxy } from "../seams/service-proxy.ts";
import { servicePorts, servicesWithoutPods, terminatingPods } from "./service-ports.ts";

/**
 * Keeps the node's service data path equal to Services + EndpointSlices (kube-proxy's job). One
 * key for the whole node, because the proxy replaces its table in one transaction anyway; events
 * arriving during a sync fold into the next one. A failed sync backs off and retries; the
 * periodic resync is the safety net.
 *
 * Start it after `informers.start()` has resolved, so the first sync sees the full state.
 */
const KEY = "node";

export function createServiceProxyController(
  ctx: ControllerContext,
  proxy: ServiceProxy,
  options: {
    resyncMs?: number;
    /** A new Service gets this long to find its pods before "matches no pods" is reported. */
    noPodsGraceMs?: number;
  } = {},
): Controller {
  const services = ctx.informers.for<Service & KubeObject>("services");
  const slices = ctx.informers.for<EndpointSlice & KubeObject>("endpointslices.discovery.k8s.io");
  const endpoints = ctx.informers.for<Endpoints & KubeObject>("endpoints");
  const pods = ctx.informers.for<Pod & KubeObject>("pods");
  let last = "";

  const controller = createController({
    name: "service-proxy",
    workers: 1,
    log: ctx.log,
    resync: { everyMs: options.resyncMs ?? 30_000, keys: () => [KEY] },
    async reconcile() {
      const world = { services: services.list(), endpointSlices: slices.list(), endpoints: endpoints.list() };
      const ports = servicePorts({ ...world, terminatingPods: terminatingPods(pods.list()) });
      const text = JSON.stringify(ports);
      // The resync re-applies too (someone may have flushed the table), but an event that changed
      // nothing the proxy serves is skipped.
      if (text !== last || resyncDue()) {
        const result = await proxy.sync(ports);
        last = text;
        lastApplied = Date.now();
        reportWarnings(result.warnings);
      }
      return reportNoPods(servicesWithoutPods(world));
    },
  });
  let lastApplied = 0;
  // Reported once per (port, message) while it lasts, not on every sync.
  let reported = new Set<string>();
  const events = ctx.events("service-proxy");
  function reportWarnings(warnings: ProxyWarning[]): void {
    const now = new Set<string>();
    for (const w of warnings) {
      const id = `${w.key}|${w.message}`;
      now.add(id);
      if (reported.has(id)) continue;
      const [namespace, rest] = w.key.split("/");
      const svc = services.get(namespace ?? "", (rest ?? "").split(":")[0] ?? "");
      if (svc) events.record(svc, "Warning", "PortConflict", w.message);
    }
    reported = now;
  }
  const resyncDue = () => Date.now() - lastApplied >= (options.resyncMs ?? 30_000) - 100;

  // Since when each Service has matched no pods (this process's clock: creationTimestamp has
  // whole seconds), and which ones were reported: once per episode, after a grace period that
  // lets a Service applied together with its Deployment find its pods first.
  let emptySince = new Map<string, number>();
  let reportedEmpty = new Set<string>();
  const grace = options.noPodsGraceMs ?? 10_000;
  function reportNoPods(empty: (Service & KubeObject)[]): { requeueAfterMs: number } | undefined {
    const now = ctx.clock.now();
    const since = new Map<string, number>();
    const reported = new Set<string>();
    let recheck: number | undefined;
    for (const svc of empty) {
      const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
      since.set(id, emptySince.get(id) ?? now);
      const waited = now - since.get(id)!;
      if (waited < grace) {
        recheck = Math.min(recheck ?? grace, grace - waited);
        continue;
      }
      reported.add(id);
      if (reportedEmpty.has(id)) continue;
      const selector = Object.entries(svc.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      events.record(
        svc,
        "Warning",
        "NoPods",
        `selector ${selector} matches no pods: connections to this Service are refused until pods with these labels exist and are Ready`,
      );
    }
    emptySince = since;
    reportedEmpty = reported;
    return recheck === undefined ? undefined : { requeueAfterMs: recheck };
  }

  const kick = () => controller.enqueue(KEY);
  services.onEvent(kick);
  slices.onEvent(kick);
  endpoints.onEvent(kick);
  // Only a pod's deletion starting (or ending) matters here.
  pods.onEvent((e) => {
    if (e.type === "DELETED" || !!e.object.metadata.deletionTimestamp !== !!e.old?.metadata.deletionTimestamp)
      kick();
  });
  return {
    ...controller,
    start() {
      controller.start();
      // The first sync also covers a cluster without Services (clearing a stale table).
      controller.enqueue(KEY);
    },
  };
}
