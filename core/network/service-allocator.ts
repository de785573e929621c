import type { Service, ServiceSpec } from "kubernetes-types/core/v1";
import { DEFAULT_NODEPORT_RANGE, DEFAULT_SERVICE_CIDR } from "../config.ts";
import { ApiError, type StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { AdmissionHook, AdmissionRequest, DeletedListener } from "../registry/admission.ts";
import { cidrContains, firstHost, formatIPv4, lastHost, parseCidr, parseIPv4 } from "./cidr.ts";

/**
 * ClusterIP and NodePort allocation for Services, as registry admission hooks (what
 * kube-apiserver's service REST storage does). An address or port belongs to one Service
 * (`namespace/name`); a requested one that is taken or out of range is a 422 naming the field, the
 * value and the Service holding it. State lives in memory and is rebuilt from the stored Services
 * at start-up (`recover`), so it cannot disagree with the store for long.
 *
 * Free addresses and ports are picked from a random starting point (as Kubernetes does), so a
 * freed one is rarely handed out again soon.
 *
 * Defaults: ClusterIPs from 10.96.0.0/16; 10.96.0.1 is kept for the `kubernetes` Service and
 * 10.96.0.10 for cluster DNS (only given to a Service that asks for it); NodePorts 30000–32767.
 *
 * Wiring: `createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] })`,
 * then `allocator.recover((await registry.list("services")).items)` before serving.
 */
export interface ServiceAllocator {
  admit: AdmissionHook;
  onDeleted: DeletedListener;
  recover(services: KubeObject[]): void;
  /** ClusterIP → owner, NodePort → owner (copies; for status and tests). */
  allocations(): { clusterIPs: Record<string, string>; nodePorts: Record<number, string> };
}

export interface ServiceAllocatorOptions {
  serviceCidr?: string;
  /** `30000-32767` */
  nodePortRange?: string;
}

export function createServiceAllocator(options: ServiceAllocatorOptions = {}): ServiceAllocator {
  const cidr = parseCidr(options.serviceCidr ?? DEFAULT_SERVICE_CIDR);
  const [lowPort, highPort] = parseRange(options.nodePortRange ?? DEFAULT_NODEPORT_RANGE);
  const reserved = new Set([firstHost(cidr), firstHost(cidr) + 9]);
  const ips = new Map<number, string>();
  const ports = new Map<number, string>();

  // Random starting points, as Kubernetes does: a freed address or port is unlikely to be handed
  // out again soon (clients may still hold it in a DNS cache), also right after a restart.
  function freeIp(): number | undefined {
    const first = firstHost(cidr);
    const span = lastHost(cidr) - first + 1;
    const start = randomBelow(span);
    for (let i = 0; i < span; i++) {
      const ip = first + ((start + i) % span);
      if (!ips.has(ip) && !reserved.has(ip)) return ip;
    }
    return undefined;
  }

  function freePort(alsoTaken: number[]): number | undefined {
    const span = highPort - lowPort + 1;
    const start = randomBelow(span);
    for (let i = 0; i < span; i++) {
      const port = lowPort + ((start + i) % span);
      if (!ports.has(port) && !alsoTaken.includes(port)) return port;
    }
    return undefined;
  }

  /** Allocates what `spec` asks for or lacks; returns an undo. Throws 422 without side effects. */
  function allocate(
    owner: string,
    name: string,
    spec: ServiceSpec,
    old: ServiceSpec | undefined,
    dryRun: boolean,
  ) {
    const causes: StatusCause[] = [];
    const takeIps: number[] = [];
    const takePorts: number[] = [];
    const type = spec.type ?? "ClusterIP";
    const wantsIp = type !== "ExternalName" && spec.clusterIP !== "None";
    if (wantsIp && !(old && old.clusterIP === spec.clusterIP && spec.clusterIP)) {
      if (spec.clusterIP) {
        const ip = parseIPv4(spec.clusterIP);
        if (ip === undefined || !cidrContains(cidr, ip) || ip === cidr.network || ip === lastHost(cidr) + 1) {
          causes.push(
            field(
              "spec.clusterIP",
              spec.clusterIP,
              `provided IP is not in the valid range. The range of valid IPs is ${cidr.text}`,
            ),
          );
        } else if (ips.has(ip) && ips.get(ip) !== owner) {
          causes.push(
            field(
              "spec.clusterIP",
              spec.clusterIP,
              `provided IP is already allocated (to service ${ips.get(ip)})`,
            ),
          );
        } else if (!ips.has(ip)) takeIps.push(ip);
      } else {
        const ip = freeIp();
        if (ip === undefined) {
          throw new ApiError(
            "InternalError",
            `Service "${name}": no ClusterIP left in ${cidr.text}; delete unused Services or restart minik with a larger --service-cidr`,
          );
        }
        takeIps.push(ip);
        if (!dryRun) {
          spec.clusterIP = formatIPv4(ip);
          spec.clusterIPs = [spec.clusterIP];
        }
      }
    }
    const oldPorts = new Set((old?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
    const wantsNodePorts = type === "NodePort" || type === "LoadBalancer";
    const seen = new Map<number, string>();
    for (const [i, p] of (wantsNodePorts ? (spec.ports ?? []) : []).entries()) {
      const f = `spec.ports[${i}].nodePort`;
      if (p.nodePort) {
        const holder = ports.get(p.nodePort);
        if (p.nodePort < lowPort || p.nodePort > highPort) {
          causes.push(
            field(
              f,
              p.nodePort,
              `provided port is not in the valid range. The range of valid ports is ${lowPort}-${highPort}`,
            ),
          );
        } else if (holder !== undefined && holder !== owner) {
          causes.push(field(f, p.nodePort, `provided port is already allocated (to service ${holder})`));
        } else if (seen.has(p.nodePort) && seen.get(p.nodePort) === (p.protocol ?? "TCP")) {
          causes.push({ reason: "FieldValueDuplicate", field: f, message: `Duplicate value: ${p.nodePort}` });
        } else if (holder === undefined && !takePorts.includes(p.nodePort)) takePorts.push(p.nodePort);
        seen.set(p.nodePort, p.protocol ?? "TCP");
        continue;
      }
      const port = freePort(takePorts);
      if (port === undefined) {
        throw new ApiError(
          "InternalError",
          `Service "${name}": no NodePort left in ${lowPort}-${highPort}; delete unused NodePort Services`,
        );
      }
      takePorts.push(port);
      if (!dryRun) p.nodePort = port;
    }
    if (causes.length) throw ApiError.invalid("Service", name, causes);
    // What the old spec held and the new one no longer does is given back.
    const keptPorts = new Set((wantsNodePorts ? (spec.ports ?? []) : []).map((p) => p.nodePort));
    const dropPorts = [...oldPorts].filter((p) => !keptPorts.has(p) && ports.get(p) === owner);
    const oldIp = old?.clusterIP ? parseIPv4(old.clusterIP) : undefined;
    const dropIp =
      old && oldIp !== undefined && (!wantsIp || spec.clusterIP !== old.clusterIP) && ips.get(oldIp) === owner
        ? oldIp
        : undefined;
    if (dryRun) return undefined;
    for (const ip of takeIps) ips.set(ip, owner);
    for (const port of takePorts) ports.set(port, owner);
    for (const port of dropPorts) ports.delete(port);
    if (dropIp !== undefined) ips.delete(dropIp);
    return () => {
      for (const ip of takeIps) if (ips.get(ip) === owner) ips.delete(ip);
      for (const port of takePorts) if (ports.get(port) === owner) ports.delete(port);
      for (const port of dropPorts) if (!ports.has(port)) ports.set(port, owner);
      if (dropIp !== undefined && !ips.has(dropIp)) ips.set(dropIp, owner);
    };
  }

  function release(owner: string): void {
    for (const [ip, o] of ips) if (o === owner) ips.delete(ip);
    for (const [port, o] of ports) if (o === owner) ports.delete(port);
  }

  return {
    admit(request: AdmissionRequest) {
      if (request.resource !== "services" || request.subresource) return;
      if (request.operation === "DELETE") return;
      const svc = request.object as unknown as Service;
      if (!svc.spec) return;
      const owner = ownerOf(request.object);
      const old =
        request.operation === "UPDATE"
          ? (request.oldObject as unknown as Service | undefined)?.spec
          : undefined;
      return allocate(owner, svc.metadata?.name ?? "", svc.spec, old, request.dryRun);
    },
    onDeleted(resource, object) {
      if (resource === "services") release(ownerOf(object));
    },
    recover(services) {
      ips.clear();
      ports.clear();
      for (const obj of services) {
        const spec = (obj as unknown as Service).spec;
        const owner = ownerOf(obj);
        const ip = spec?.clusterIP ? parseIPv4(spec.clusterIP) : undefined;
        if (ip !== undefined && cidrContains(cidr, ip)) ips.set(ip, owner);
        for (const p of spec?.ports ?? []) if (p.nodePort) ports.set(p.nodePort, owner);
      }
    },
    allocations() {
      return {
        clusterIPs: Object.fromEntries([...ips].map(([ip, o]) => [formatIPv4(ip), o])),
        nodePorts: Object.fromEntries(ports),
      };
    },
  };
}

function randomBelow(n: number): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! % n;
}

function ownerOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? "default"}/${obj.metadata.name}`;
}

function field(path: string, value: unknown, detail: string): StatusCause {
  return {
    reason: "FieldValueInvalid",
    field: path,
    message: `Invalid value: ${typeof value === "string" ? JSON.stringify(value) : value}: ${detail}`,
  };
}

function parseRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  const low = Number(m?.[1]);
  const high = Number(m?.[2]);
  if (!m || low < 1 || high > 65535 || low > high)
    throw new Error(`invalid NodePort range "${text}": expected e.g. 30000-32767`);
  return [low, high];
}
