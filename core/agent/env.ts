import type {
  ConfigMap,
  Container,
  EnvVar,
  Pod,
  ResourceFieldSelector,
  Secret,
} from "kubernetes-types/core/v1";
import { cpuMillis, parseQuantity, quantityValue } from "../quantity.ts";
import { RuntimeError } from "../seams/container-runtime.ts";
import type { ClaimSources } from "./claim-volume.ts";

/**
 * A container's environment, resolved the way the kubelet does it: envFrom first (with prefix),
 * then env in order — each value `$(VAR)`-expanded against what came before — then the Service
 * link variables. Anything missing and not optional is a CreateContainerConfigError.
 */
export interface ConfigSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Claims and volumes for `persistentVolumeClaim` volumes. */
  claims?: ClaimSources;
}

/** Facts about the pod's placement that fieldRef/resourceFieldRef can reference. */
export interface PodPlacement {
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  /** Used for resourceFieldRef limits the container does not set, like the kubelet does. */
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function configError(message: string): RuntimeError {
  return new RuntimeError("CreateContainerConfigError", message);
}

export async function resolveEnv(
  pod: Pod,
  container: Container,
  sources: ConfigSources,
  placement: PodPlacement,
  serviceEnv: Record<string, string> = {},
): Promise<{ name: string; value: string }[]> {
  const namespace = pod.metadata?.namespace ?? "default";
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef) {
      const cm = await sources.configMap(namespace, from.configMapRef.name ?? "");
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw configError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {}))
        if (ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
    }
    if (from.secretRef) {
      const secret = await sources.secret(namespace, from.secretRef.name ?? "");
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw configError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(secret.data ?? {})) {
        if (ENV_NAME.test(prefix + k)) env.set(prefix + k, decodeBase64Text(v));
      }
    }
  }

  const lookup = (name: string) => env.get(name) ?? serviceEnv[name];
  for (const v of container.env ?? []) {
    if (v.value !== undefined && v.value !== "") env.set(v.name, expand(v.value, lookup));
    else if (v.valueFrom) env.set(v.name, await valueFrom(pod, container, v, sources, placement));
    else env.set(v.name, "");
  }

  const out = [...env].map(([name, value]) => ({ name, value }));
  for (const [name, value] of Object.entries(serviceEnv)) if (!env.has(name)) out.push({ name, value });
  return out;
}

async function valueFrom(
  pod: Pod,
  container: Container,
  v: EnvVar,
  sources: ConfigSources,
  placement: PodPlacement,
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? "default";
  const from = v.valueFrom!;
  if (from.fieldRef) return fieldPathValue(pod, from.fieldRef.fieldPath, placement);
  if (from.resourceFieldRef) {
    return resourceFieldValue(
      pod,
      from.resourceFieldRef.containerName || container.name,
      from.resourceFieldRef,
      placement,
    );
  }
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = await sources.configMap(namespace, ref.name ?? "");
    return keyRef("configmap", "ConfigMap", namespace, ref, cm ? (cm.data ?? {}) : undefined, (v) => v);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const secret = await sources.secret(namespace, ref.name ?? "");
    return keyRef(
      "secret",
      "Secret",
      namespace,
      ref,
      secret ? (secret.data ?? {}) : undefined,
      decodeBase64Text,
    );
  }
  return "";
}

/** A configMapKeyRef/secretKeyRef value, with the kubelet's messages when it is missing. */
function keyRef(
  resource: string,
  kind: string,
  namespace: string,
  ref: { name?: string; key: string; optional?: boolean },
  data: Record<string, string> | undefined,
  decode: (raw: string) => string,
): string {
  if (!data) {
    if (ref.optional) return "";
    throw configError(`${resource} "${ref.name}" not found`);
  }
  const value = data[ref.key];
  if (value === undefined) {
    if (ref.optional) return "";
    throw configError(`couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name}`);
  }
  return decode(value);
}

/** The downward API's fieldPath values (env fieldRef and downwardAPI volume items). */
export function fieldPathValue(pod: Pod, path: string, placement: PodPlacement): string {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (keyed) return (keyed[1] === "labels" ? meta.labels : meta.annotations)?.[keyed[2]!] ?? "";
  switch (path) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "default";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
      return formatMap(meta.labels);
    case "metadata.annotations":
      return formatMap(meta.annotations);
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
      return placement.podIP ?? "";
    case "status.podIPs":
      return (placement.podIPs ?? (placement.podIP ? [placement.podIP] : [])).join(",");
    case "status.hostIP":
    case "status.hostIPs":
      return placement.hostIP ?? "";
    default:
      throw configError(`unsupported fieldPath: ${path}`);
  }
}

/** `key="value"` lines, sorted, as the downwardAPI volume writes labels and annotations. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join("\n");
}

export function resourceFieldValue(
  pod: Pod,
  containerName: string,
  ref: ResourceFieldSelector,
  placement: PodPlacement,
): string {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (x) => x.name === containerName,
  );
  if (!c) throw configError(`container "${containerName}" in resourceFieldRef not found in pod`);
  const [kind, resource] = ref.resource.split(".") as ["limits" | "requests", string];
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const given = kind === "limits" ? limits[resource] : (requests[resource] ?? limits[resource]);
  if (resource === "cpu") {
    const millis =
      given !== undefined ? cpuMillis(given) : kind === "limits" ? placement.nodeAllocatable.cpuMillis : 0;
    const divisor = cpuMillis(ref.divisor ?? "1") || 1000;
    return String(Math.ceil(millis / divisor));
  }
  if (resource === "memory" || resource === "ephemeral-storage") {
    const bytes =
      given !== undefined
        ? quantityValue(given)
        : kind === "limits" && resource === "memory"
          ? placement.nodeAllocatable.memoryBytes
          : 0;
    const divisor = parseQuantity(ref.divisor ?? "1") || 1;
    return String(Math.ceil(bytes / divisor));
  }
  throw configError(`unsupported resource in resourceFieldRef: ${ref.resource}`);
}

/**
 * Kubernetes' `$(VAR)` expansion: defined names are replaced, undefined references stay as
 * written, `$$` is an escaped `$`.
 */
export function expand(text: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== "$" || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = text.indexOf(")", i + 2);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, end);
      out += lookup(name) ?? `$(${name})`;
      i = end;
    } else {
      out += ch;
    }
  }
  return out;
}

export function decodeBase64(data: string): Uint8Array {
  const bin = atob(data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function decodeBase64Text(data: string): string {
  return new TextDecoder().decode(decodeBase64(data));
}

/**
 * Docker-link style variables for every Service of the namespace (enableServiceLinks), e.g.
 * `WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`, `WEB_PORT_80_TCP_ADDR`.
 */
export function serviceLinkEnv(
  services: {
    metadata?: { name?: string };
    spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] };
  }[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === "None" || ports.length === 0) continue;
    const name = (svc.metadata?.name ?? "").toUpperCase().replaceAll("-", "_");
    const first = ports[0]!;
    env[`${name}_SERVICE_HOST`] = ip;
    env[`${name}_SERVICE_PORT`] = String(first.port);
    env[`${name}_PORT`] = `${(first.protocol ?? "TCP").toLowerCase()}://${ip}:${first.port}`;
    for (const p of ports) {
      const proto = p.protocol ?? "TCP";
      if (p.name) env[`${name}_SERVICE_PORT_${p.name.toUpperCase().replaceAll("-", "_")}`] = String(p.port);
      const base = `${name}_PORT_${p.port}_${proto}`;
      env[base] = `${proto.toLowerCase()}://${ip}:${p.port}`;
      env[`${base}_PROTO`] = proto.toLowerCase();
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_ADDR`] = ip;
    }
  }
  return env;
}
