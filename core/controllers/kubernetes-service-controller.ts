import type { Endpoints, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { KubeObject } from "../object.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import { SERVICE_NAME_LABEL } from "./endpoints-controller.ts";

/** The Service through which pods reach the API: `kubernetes.default.svc`. */
export const KUBERNETES_SERVICE = { namespace: "default", name: "kubernetes" };
const SLICES = "endpointslices.discovery.k8s.io";
const LABELS = { component: "apiserver", provider: "kubernetes" };
const KEY = "default/kubernetes";

export interface ApiEndpoint {
  /** The first address of the service range. */
  clusterIP: string;
  /** Where pods reach the API's TLS listener (the bridge address); omitted without a node. */
  endpoint?: { ip: string; port: number };
}

/**
 * What kube-apiserver's endpoint reconciler keeps: the `default/kubernetes` Service (port 443
 * `https`, no selector) and its Endpoints and EndpointSlice pointing at the API listener pods can
 * reach. Anything edited or deleted is put back.
 */
export function createKubernetesServiceController(ctx: ControllerContext, api: ApiEndpoint): Controller {
  const { client, informers } = ctx;
  const services = informers.for<Service & KubeObject>("services");
  const endpoints = informers.for<Endpoints & KubeObject>("endpoints");
  const slices = informers.for<EndpointSlice & KubeObject>(SLICES);
  const controller = createController({
    name: "kubernetes-service",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => [KEY] },
  });
  for (const informer of [services, endpoints, slices] as const) {
    informer.onEvent((e) => {
      const m = e.object.metadata;
      if (m.namespace === KUBERNETES_SERVICE.namespace && m.name === KUBERNETES_SERVICE.name)
        controller.enqueue(KEY);
    });
  }
  controller.enqueue(KEY);
  return controller;

  async function reconcile() {
    const { namespace, name } = KUBERNETES_SERVICE;
    const port = { name: "https", port: 443, protocol: "TCP", targetPort: api.endpoint?.port ?? 443 };
    const svc = services.get(namespace, name);
    if (!svc) {
      services.observe(
        await client.create<Service & KubeObject>("services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name, namespace, labels: LABELS },
          spec: { type: "ClusterIP", clusterIP: api.clusterIP, ports: [port], sessionAffinity: "None" },
        }),
      );
    } else if (JSON.stringify(svc.spec?.ports) !== JSON.stringify([port])) {
      services.observe(await client.update("services", { ...svc, spec: { ...svc.spec, ports: [port] } }));
    }
    if (!api.endpoint) return;
    const { ip, port: apiPort } = api.endpoint;
    const subsets = [{ addresses: [{ ip }], ports: [{ name: "https", port: apiPort, protocol: "TCP" }] }];
    const eps = endpoints.get(namespace, name);
    if (!eps) {
      endpoints.observe(
        await client.create<Endpoints & KubeObject>("endpoints", {
          apiVersion: "v1",
          kind: "Endpoints",
          metadata: { name, namespace, labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
          subsets,
        }),
      );
    } else if (JSON.stringify(eps.subsets) !== JSON.stringify(subsets)) {
      endpoints.observe(await client.update("endpoints", { ...eps, subsets }));
    }
    const slice = {
      addressType: "IPv4",
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
      ports: [{ name: "https", port: apiPort, protocol: "TCP" }],
    };
    const existing = slices.get(namespace, name);
    if (!existing) {
      slices.observe(
        await client.create<EndpointSlice & KubeObject>(SLICES, {
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          metadata: {
            name,
            namespace,
            // not the endpointslice controller's: that one would remove a selector-less Service's slice
            labels: { [SERVICE_NAME_LABEL]: name },
          },
          ...slice,
        }),
      );
    } else if (
      JSON.stringify([existing.endpoints, existing.ports]) !== JSON.stringify([slice.endpoints, slice.ports])
    ) {
      slices.observe(await client.update(SLICES, { ...existing, ...slice }));
    }
  }
}
