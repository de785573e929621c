import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Endpoints, Secret, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Ingress, IngressBackend } from "kubernetes-types/networking/v1";
import type { IngressCertificate } from "../seams/ingress-listener.ts";
import type { ProxyEndpoint, ProxyServicePort } from "../seams/service-proxy.ts";
import { addRoute, emptyRouteTable, type RouteTable, sortRoutes } from "./ingress-match.ts";
import { servicePorts } from "./service-ports.ts";

/** Where a matched request goes: ready endpoints, or why there are none (answered with 503). */
export interface BackendTarget {
  /** `namespace/service:port`: round-robin state and messages. */
  key: string;
  endpoints: ProxyEndpoint[];
  /** Set when the backend cannot be reached at all (missing Service, port, resource backend). */
  problem?: string;
}

export interface IngressTable {
  routes: RouteTable<BackendTarget>;
  /** The oldest served Ingress's `spec.defaultBackend`; none: unmatched requests get 404. */
  defaultBackend?: BackendTarget;
  certificates: IngressCertificate[];
}

/** Something wrong with one Ingress that its users should hear of (a Warning event). */
export interface IngressProblem {
  /** `namespace/name` of the Ingress. */
  ingress: string;
  reason: string;
  message: string;
}

export interface IngressWorld {
  /** The Ingresses this controller serves (class already filtered), any order. */
  ingresses: Ingress[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  endpoints: Endpoints[];
  secrets: Secret[];
  /** Pods being deleted (`namespace/name`): out of rotation at once. */
  terminatingPods?: Set<string>;
}

/**
 * The ingress routing table, computed from informers' state like the service proxy's view:
 * every rule of every served Ingress, resolved to its Service's ready endpoints, plus the TLS
 * certificates of the referenced Secrets. Oldest Ingress first, so that of two Ingresses claiming
 * the same host and path the older one wins (as ingress-nginx does). Pure.
 */
export function ingressTable(world: IngressWorld): { table: IngressTable; problems: IngressProblem[] } {
  const ports = servicePorts({
    services: world.services,
    endpointSlices: world.endpointSlices,
    endpoints: world.endpoints,
    terminatingPods: world.terminatingPods,
  });
  const problems: IngressProblem[] = [];
  const resolve = backendResolver(world.services, ports);
  const routes = emptyRouteTable<BackendTarget>();
  let defaultBackend: BackendTarget | undefined;
  const certificates: IngressCertificate[] = [];
  const seenNames = new Set<string>();
  for (const ing of [...world.ingresses].sort(oldestFirst)) {
    if (ing.metadata?.deletionTimestamp) continue;
    const ns = ing.metadata?.namespace ?? "";
    const id = `${ns}/${ing.metadata?.name}`;
    const target = (backend: IngressBackend): BackendTarget => {
      const t = resolve(ns, backend);
      if (t.problem) problems.push({ ingress: id, reason: t.reason, message: t.problem });
      return t;
    };
    if (ing.spec?.defaultBackend && !defaultBackend) defaultBackend = target(ing.spec.defaultBackend);
    for (const rule of ing.spec?.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const pathType = p.pathType === "Exact" ? "Exact" : "Prefix";
        addRoute(routes, rule.host ?? "", { path: p.path || "/", pathType, backend: target(p.backend) });
      }
    }
    for (const tls of ing.spec?.tls ?? []) {
      const found = tlsCertificate(world.secrets, ns, tls.secretName);
      if ("problem" in found) {
        problems.push({ ingress: id, reason: found.reason, message: found.problem });
        continue;
      }
      for (const host of tls.hosts ?? []) {
        if (seenNames.has(host)) continue;
        seenNames.add(host);
        certificates.push({ serverName: host, ...found });
      }
    }
  }
  sortRoutes(routes);
  return { table: { routes, defaultBackend, certificates }, problems: dedupeProblems(problems) };
}

function oldestFirst(a: Ingress, b: Ingress): number {
  return (
    (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "") ||
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    )
  );
}

type Resolved = BackendTarget & { reason: string };

function backendResolver(
  services: Service[],
  ports: ProxyServicePort[],
): (namespace: string, backend: IngressBackend) => Resolved {
  const byName = new Map(services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s]));
  const byKey = new Map(ports.map((p) => [p.key, p]));
  return (namespace, backend) => {
    if (!backend.service) {
      const r = backend.resource;
      const key = `${namespace}/${r?.kind}/${r?.name}`;
      return fail(
        key,
        "UnsupportedBackend",
        `resource backend ${r?.kind} "${r?.name}" is not supported by minik's ingress controller: use a service backend`,
      );
    }
    const { name, port } = backend.service;
    const key = `${namespace}/${name}:${port?.name || port?.number}`;
    const svc = byName.get(`${namespace}/${name}`);
    if (!svc)
      return fail(
        key,
        "ServiceNotFound",
        `service "${namespace}/${name}" not found: requests for it are answered 503 until it exists`,
      );
    const sp = (svc.spec?.ports ?? []).find((p) =>
      port?.name ? p.name === port.name : p.port === port?.number,
    );
    if (!sp)
      return fail(
        key,
        "ServicePortNotFound",
        `service "${namespace}/${name}" has no port ${port?.name ? `named "${port.name}"` : port?.number}: requests for it are answered 503`,
      );
    const proxied = byKey.get(`${namespace}/${name}:${sp.name || sp.port}`);
    if (!proxied)
      return fail(
        key,
        "ServiceNotRoutable",
        `service "${namespace}/${name}" has no cluster IP endpoints (ExternalName or headless services are not routed): requests are answered 503`,
      );
    return { key, endpoints: proxied.endpoints, reason: "" };
  };
}

function fail(key: string, reason: string, problem: string): Resolved {
  return { key, endpoints: [], problem, reason };
}

/** The PEM pair of a `kubernetes.io/tls` Secret, or why it cannot be used. */
function tlsCertificate(
  secrets: Secret[],
  namespace: string,
  name: string | undefined,
): { cert: string; key: string } | { problem: string; reason: string } {
  if (!name)
    return {
      problem: "a TLS entry without secretName is served with the default certificate",
      reason: "NoSecretName",
    };
  const secret = secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name);
  if (!secret)
    return {
      reason: "SecretNotFound",
      problem: `secret "${namespace}/${name}" not found: its hosts are served with the default certificate until it exists`,
    };
  const cert = decode(secret.data?.["tls.crt"]);
  const key = decode(secret.data?.["tls.key"]);
  const wrong = pemProblem(cert, key);
  if (wrong)
    return {
      reason: "InvalidSecret",
      problem: `secret "${namespace}/${name}": ${wrong} (make it with kubectl create secret tls NAME --cert=FILE --key=FILE): its hosts are served with the default certificate`,
    };
  return { cert, key };
}

/**
 * Checked here, not by the listener: one unusable pair handed to the TLS server would fail every
 * certificate with it.
 */
function pemProblem(cert: string, key: string): string | undefined {
  if (!cert || !key) return "tls.crt and tls.key are both required";
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return "tls.crt is not a PEM certificate";
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) return "tls.key does not belong to tls.crt";
  } catch {
    return "tls.key is not a PEM private key";
  }
  return undefined;
}

function decode(base64: string | undefined): string {
  if (!base64) return "";
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}

function dedupeProblems(problems: IngressProblem[]): IngressProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.ingress}|${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
