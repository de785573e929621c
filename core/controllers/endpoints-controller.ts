import type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  Pod,
  Service,
} from "kubernetes-types/core/v1";
import type { Endpoint, EndpointSlice } from "kubernetes-types/discovery/v1";
import { isApiError } from "../errors.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import { type Kube, ownerReferenceTo } from "./owner-references.ts";
import { canonicalJson } from "./pod-template-hash.ts";
import { isPodReady, isPodTerminal } from "./pods.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
const MANAGED_BY = "endpointslice-controller.k8s.io";

type Svc = Kube<Service>;
type P = Kube<Pod>;
type Slice = Kube<EndpointSlice>;

/**
 * Publishes, for every Service with a selector, the pods behind it: an Endpoints object (ready
 * and not-ready addresses) and EndpointSlices (per-endpoint ready/serving/terminating), as
 * Kubernetes' endpoints and endpointslice controllers do. The service proxy reads the slices.
 */
export function createEndpointsController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const services = informers.for<Svc>("services");
  const pods = informers.for<P>("pods");
  const endpoints = informers.for<Kube<Endpoints>>("endpoints");
  const slices = informers.for<Slice>("endpointslices.discovery.k8s.io");

  const controller = createController({
    name: "endpoints",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => services.list().map(keyOf) },
  });
  services.onEvent((e) => controller.enqueue(keyOf(e.object)));
  pods.onEvent((e) => {
    const ns = e.object.metadata.namespace ?? "";
    for (const svc of services.list(ns)) {
      if (selects(svc, e.object) || (e.old && selects(svc, e.old))) controller.enqueue(keyOf(svc));
    }
  });
  // Someone else changed what we publish: put it back.
  endpoints.onEvent((e) => controller.enqueue(keyOf(e.object)));
  slices.onEvent((e) => {
    const svc = e.object.metadata.labels?.[SERVICE_NAME_LABEL];
    if (svc && e.object.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
      controller.enqueue(`${e.object.metadata.namespace}/${svc}`);
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const svc = services.get(namespace, name);
    const ours = slices
      .list(namespace)
      .filter(
        (s) =>
          s.metadata.labels?.[SERVICE_NAME_LABEL] === name &&
          s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
      );
    if (!svc || !hasSelector(svc)) {
      // Gone, or a selector-less Service whose Endpoints its owner writes by hand.
      if (!svc) await remove("endpoints", endpoints.get(namespace, name));
      for (const s of ours) await remove("endpointslices.discovery.k8s.io", s);
      return;
    }
    const backends = pods
      .list(namespace)
      .filter((p) => selects(svc, p) && p.status?.podIP && !isPodTerminal(p));
    await syncEndpoints(svc, backends);
    await syncSlices(svc, backends, ours);
  }

  async function syncEndpoints(svc: Svc, backends: P[]): Promise<void> {
    const { namespace, name } = svc.metadata;
    const subsets = endpointSubsets(svc, backends);
    const existing = endpoints.get(namespace ?? "", name!);
    const labels = { ...svc.metadata.labels };
    if (
      existing &&
      deepEqual(existing.subsets ?? [], subsets) &&
      deepEqual(existing.metadata.labels ?? {}, labels)
    )
      return;
    const body: Kube<Endpoints> = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { ...existing?.metadata, name, namespace, labels },
      ...(subsets.length ? { subsets } : {}),
    };
    endpoints.observe(
      existing ? await client.update("endpoints", body) : await client.create("endpoints", body),
    );
  }

  async function syncSlices(svc: Svc, backends: P[], ours: Slice[]): Promise<void> {
    const wanted = desiredSlices(svc, backends);
    const spare = [...ours];
    for (const want of wanted) {
      // Reuse the slice that already carries these ports, else any spare one.
      const i = Math.max(
        spare.findIndex((s) => canonicalJson(s.ports ?? []) === canonicalJson(want.ports ?? [])),
        spare.length ? 0 : -1,
      );
      const current = i >= 0 ? spare.splice(i, 1)[0] : undefined;
      const labels = {
        ...svc.metadata.labels,
        [SERVICE_NAME_LABEL]: svc.metadata.name!,
        [MANAGED_BY_LABEL]: MANAGED_BY,
      };
      if (current && sameSlice(current, want, labels)) continue;
      const body: Slice = {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: current
          ? { ...current.metadata, labels }
          : {
              generateName: `${svc.metadata.name}-`,
              namespace: svc.metadata.namespace,
              labels,
              ownerReferences: [ownerReferenceTo(svc)],
            },
        addressType: "IPv4",
        endpoints: want.endpoints,
        ...(want.ports ? { ports: want.ports } : {}),
      };
      slices.observe(
        current
          ? await client.update("endpointslices.discovery.k8s.io", body)
          : await client.create("endpointslices.discovery.k8s.io", body),
      );
    }
    for (const s of spare) await remove("endpointslices.discovery.k8s.io", s);
  }

  async function remove(resource: string, obj: Kube<object> | undefined): Promise<void> {
    if (!obj) return;
    try {
      const gone = await client.delete(resource, obj.metadata.namespace ?? "", obj.metadata.name!, {
        preconditions: { uid: obj.metadata.uid },
      });
      informers.for(resource).observeDeleted(gone ?? obj);
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
    }
  }
}

function sameSlice(
  current: Slice,
  want: Pick<EndpointSlice, "endpoints" | "ports">,
  labels: Record<string, string>,
): boolean {
  return (
    current.addressType === "IPv4" &&
    deepEqual(current.endpoints ?? [], want.endpoints ?? []) &&
    deepEqual(current.ports ?? [], want.ports ?? []) &&
    deepEqual(current.metadata.labels ?? {}, labels)
  );
}

function hasSelector(svc: Service): boolean {
  return svc.spec?.type !== "ExternalName" && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

function selects(svc: Service, pod: Pod): boolean {
  if (!hasSelector(svc)) return false;
  return Object.entries(svc.spec!.selector!).every(([k, v]) => pod.metadata?.labels?.[k] === v);
}

/** The service's ports as this pod serves them; a named targetPort the pod lacks is left out. */
export function resolvePorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const target = sp.targetPort ?? sp.port;
    let port: number | undefined;
    if (typeof target === "number") port = target;
    else if (/^\d+$/.test(target)) port = Number(target);
    else {
      for (const c of pod.spec?.containers ?? []) {
        const hit = c.ports?.find(
          (p) => p.name === target && (p.protocol ?? "TCP") === (sp.protocol ?? "TCP"),
        );
        if (hit) port = hit.containerPort;
      }
    }
    if (port !== undefined)
      out.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" });
  }
  return out;
}

function targetRef(pod: P) {
  return { kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

/**
 * Endpoints subsets: addresses grouped by the ports they serve; ready ones in `addresses`, others
 * in `notReadyAddresses`; terminating pods left out (unless publishNotReadyAddresses).
 */
export function endpointSubsets(svc: Service, pods: P[]): EndpointSubset[] {
  const publishAll = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, EndpointSubset>();
  for (const pod of [...pods].sort(byIp)) {
    if (pod.metadata.deletionTimestamp && !publishAll) continue;
    const ports = resolvePorts(svc, pod);
    if (!ports.length && svc.spec?.ports?.length) continue;
    const key = canonicalJson(ports);
    const subset = groups.get(key) ?? { ports: ports.length ? ports : undefined };
    groups.set(key, subset);
    const address: EndpointAddress = {
      ip: pod.status!.podIP!,
      nodeName: pod.spec?.nodeName,
      targetRef: targetRef(pod),
    };
    if (pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name) address.hostname = pod.spec.hostname;
    if (publishAll || isPodReady(pod)) subset.addresses = [...(subset.addresses ?? []), address];
    else subset.notReadyAddresses = [...(subset.notReadyAddresses ?? []), address];
  }
  return [...groups.values()].map((s) => JSON.parse(JSON.stringify(s)));
}

/** One slice per distinct port set; a Service with no backends keeps one empty slice. */
export function desiredSlices(svc: Service, pods: P[]): Pick<EndpointSlice, "endpoints" | "ports">[] {
  const publishAll = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, { endpoints: Endpoint[]; ports: EndpointPort[] }>();
  for (const pod of [...pods].sort(byIp)) {
    const ports = resolvePorts(svc, pod);
    if (!ports.length && svc.spec?.ports?.length) continue;
    const key = canonicalJson(ports);
    const group = groups.get(key) ?? { endpoints: [], ports };
    groups.set(key, group);
    const terminating = !!pod.metadata.deletionTimestamp;
    const serving = publishAll || isPodReady(pod);
    group.endpoints.push({
      addresses: [pod.status!.podIP!],
      conditions: { ready: serving && !terminating, serving, terminating },
      ...(pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name
        ? { hostname: pod.spec.hostname }
        : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: JSON.parse(JSON.stringify(targetRef(pod))),
    });
  }
  if (!groups.size) return [{ endpoints: [] }];
  return [...groups.values()];
}

function byIp(a: Pod, b: Pod): number {
  const n = (p: Pod) => (p.status?.podIP ?? "").split(".").reduce((acc, x) => acc * 256 + Number(x), 0);
  return n(a) - n(b);
}
