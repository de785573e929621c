import type {
  ConfigMap,
  Container,
  KeyToPath,
  Pod,
  Secret,
  ServiceAccountTokenProjection,
  Volume,
} from "kubernetes-types/core/v1";
import { quantityValue } from "../quantity.ts";
import { type Mount, RuntimeError, type VolumeSource } from "../seams/container-runtime.ts";
import { resolveClaimVolume } from "./claim-volume.ts";
import {
  type ConfigSources,
  decodeBase64,
  expand,
  fieldPathValue,
  type PodPlacement,
  resourceFieldValue,
} from "./env.ts";

/**
 * Pod volumes → runtime VolumeSources, and a container's volumeMounts → runtime Mounts.
 * configMap, secret, downwardAPI and projected volumes become "files" the runtime writes into
 * the pod's volume directory; a missing non-optional source keeps the pod in ContainerCreating
 * with the kubelet's FailedMount message.
 */
export interface VolumeContext {
  sources: ConfigSources;
  placement: PodPlacement;
  /** Token for projected serviceAccountToken sources (empty when the cluster issues none). */
  serviceAccountToken?: TokenSource;
}

export type TokenSource = (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;

/**
 * Asks `source` now for the token of every projected serviceAccountToken source of the pod, so
 * the signing overlaps the sandbox's set-up instead of following it; returns a source that hands
 * out those requests. Tokens are keyed by audience and expiry, as the kubelet's token manager
 * keys its cache. A request no one ends up waiting for (the sandbox failed) is dropped quietly;
 * one that failed fails again where the volumes are resolved.
 */
export function prefetchTokens(pod: Pod, source: TokenSource): TokenSource {
  const key = (p: ServiceAccountTokenProjection) => `${p.audience ?? ""}|${p.expirationSeconds ?? ""}`;
  const started = new Map<string, Promise<string>>();
  for (const v of pod.spec?.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      const projection = s.serviceAccountToken;
      if (!projection || started.has(key(projection))) continue;
      const request = source(pod, projection);
      request.catch(() => {});
      started.set(key(projection), request);
    }
  }
  return (p, projection) => started.get(key(projection)) ?? source(p, projection);
}

const DEFAULT_MODE = 0o644;

function mountError(volume: string, message: string): RuntimeError {
  return new RuntimeError(
    "ContainerCreating",
    `MountVolume.SetUp failed for volume "${volume}" : ${message}`,
  );
}

type Files = Record<string, Uint8Array | string>;

export async function resolveVolumes(pod: Pod, ctx: VolumeContext): Promise<Map<string, VolumeSource>> {
  const out = new Map<string, VolumeSource>();
  for (const v of pod.spec?.volumes ?? []) out.set(v.name, await resolveVolume(pod, v, ctx));
  return out;
}

async function resolveVolume(pod: Pod, v: Volume, ctx: VolumeContext): Promise<VolumeSource> {
  const namespace = pod.metadata?.namespace ?? "default";
  if (v.emptyDir) {
    const size = v.emptyDir.sizeLimit;
    return {
      type: "emptyDir",
      medium: v.emptyDir.medium === "Memory" ? "Memory" : "",
      ...(size !== undefined ? { sizeLimitBytes: quantityValue(size) } : {}),
    };
  }
  if (v.persistentVolumeClaim) {
    const claims = ctx.sources.claims;
    if (claims) return resolveClaimVolume(v.name, namespace, v.persistentVolumeClaim, claims);
  }
  if (v.hostPath)
    return { type: "hostPath", path: v.hostPath.path, hostPathType: v.hostPath.type || undefined };
  if (v.configMap) {
    const files = await objectSource(ctx, "configmap", namespace, v.name, v.configMap);
    return { type: "files", files, mode: v.configMap.defaultMode ?? DEFAULT_MODE };
  }
  if (v.secret) {
    const ref = { ...v.secret, name: v.secret.secretName };
    const files = await objectSource(ctx, "secret", namespace, v.name, ref);
    return { type: "files", files, mode: v.secret.defaultMode ?? DEFAULT_MODE };
  }
  if (v.downwardAPI) {
    return {
      type: "files",
      files: downwardFiles(pod, v.downwardAPI.items ?? [], ctx),
      mode: v.downwardAPI.defaultMode ?? DEFAULT_MODE,
    };
  }
  if (v.projected) {
    const files: Files = {};
    for (const s of v.projected.sources ?? []) {
      if (s.configMap)
        Object.assign(files, await objectSource(ctx, "configmap", namespace, v.name, s.configMap));
      if (s.secret) Object.assign(files, await objectSource(ctx, "secret", namespace, v.name, s.secret));
      if (s.downwardAPI) Object.assign(files, downwardFiles(pod, s.downwardAPI.items ?? [], ctx));
      if (s.serviceAccountToken)
        files[s.serviceAccountToken.path] =
          (await ctx.serviceAccountToken?.(pod, s.serviceAccountToken)) ?? "";
    }
    return { type: "files", files, mode: v.projected.defaultMode ?? DEFAULT_MODE };
  }
  const kind = Object.keys(v).find((k) => k !== "name") ?? "unknown";
  throw mountError(
    v.name,
    `volume type ${kind} is not supported by minik (use emptyDir, hostPath, persistentVolumeClaim, configMap, secret, downwardAPI or projected)`,
  );
}

interface SourceRef {
  name?: string;
  optional?: boolean;
  items?: KeyToPath[];
}

/** The files of a configMap or secret volume source; missing and not optional → FailedMount. */
async function objectSource(
  ctx: VolumeContext,
  kind: "configmap" | "secret",
  namespace: string,
  volume: string,
  ref: SourceRef,
): Promise<Files> {
  const name = ref.name ?? "";
  const obj =
    kind === "configmap"
      ? await ctx.sources.configMap(namespace, name)
      : await ctx.sources.secret(namespace, name);
  if (!obj && !ref.optional) throw mountError(volume, `${kind} "${name}" not found`);
  return kind === "configmap"
    ? configMapFiles(volume, obj as ConfigMap | undefined, ref.items)
    : secretFiles(volume, obj as Secret | undefined, ref.items);
}

function pick<T>(
  volume: string,
  all: Record<string, T>,
  items: KeyToPath[] | undefined,
  what: string,
): Record<string, T> {
  if (!items?.length) return all;
  const out: Record<string, T> = {};
  for (const item of items) {
    const value = all[item.key];
    if (value === undefined) throw mountError(volume, `configuration key "${item.key}" not found in ${what}`);
    out[item.path] = value;
  }
  return out;
}

function configMapFiles(volume: string, cm: ConfigMap | undefined, items: KeyToPath[] | undefined): Files {
  if (!cm) return {};
  const all: Files = { ...(cm.data ?? {}) };
  for (const [k, b64] of Object.entries(cm.binaryData ?? {})) all[k] = decodeBase64(b64);
  return pick(volume, all, items, `ConfigMap ${cm.metadata?.namespace}/${cm.metadata?.name}`);
}

function secretFiles(volume: string, secret: Secret | undefined, items: KeyToPath[] | undefined): Files {
  if (!secret) return {};
  const all: Files = {};
  for (const [k, b64] of Object.entries(secret.data ?? {})) all[k] = decodeBase64(b64);
  for (const [k, text] of Object.entries(secret.stringData ?? {})) all[k] = text;
  return pick(volume, all, items, `Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`);
}

function downwardFiles(
  pod: Pod,
  items: {
    path: string;
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  }[],
  ctx: VolumeContext,
): Files {
  const files: Files = {};
  for (const item of items) {
    if (item.fieldRef) files[item.path] = fieldPathValue(pod, item.fieldRef.fieldPath, ctx.placement);
    else if (item.resourceFieldRef) {
      files[item.path] = resourceFieldValue(
        pod,
        item.resourceFieldRef.containerName ?? "",
        item.resourceFieldRef,
        ctx.placement,
      );
    }
  }
  return files;
}

/** The container's volumeMounts as runtime Mounts; `subPathExpr` is expanded with its env. */
export function containerMounts(
  container: Container,
  volumes: Map<string, VolumeSource>,
  env: { name: string; value: string }[],
): Mount[] {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  return (container.volumeMounts ?? []).map((vm) => {
    const source = volumes.get(vm.name);
    if (!source) {
      throw new RuntimeError(
        "CreateContainerConfigError",
        `volumeMount "${vm.name}" names no volume of the pod`,
      );
    }
    const subPath = vm.subPathExpr ? expand(vm.subPathExpr, (n) => vars.get(n)) : vm.subPath || undefined;
    return {
      volume: vm.name,
      source,
      containerPath: vm.mountPath,
      ...(subPath ? { subPath } : {}),
      // configMap/secret/downwardAPI/projected volumes are always read-only in Kubernetes, and
      // so is every mount of a claim the pod mounts readOnly.
      readOnly:
        Boolean(vm.readOnly) || source.type === "files" || (source.type === "hostPath" && !!source.readOnly),
    };
  });
}
