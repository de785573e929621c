import { ApiError, isApiError } from "../../core/errors.ts";
import type { KubeObject } from "../../core/object.ts";
import type { ResourceInfo } from "../../core/resources.ts";
import { ApiClient, resourcePath } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { createDiscovery, type Discovery } from "../discovery.ts";
import { type Manifest, readManifests } from "../manifest.ts";
import { objectRef } from "../object-ref.ts";
import { UsageError } from "../usage-error.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

interface Planned {
  manifest: Manifest;
  info: ResourceInfo;
  namespace: string | undefined;
  desired: KubeObject;
  live: KubeObject | undefined;
  patch?: Record<string, unknown>;
}

/**
 * `minik apply -f`: client-side apply, compatible with kubectl's (same last-applied annotation).
 * With several objects every one is first sent as a dry run, so one bad manifest means nothing is
 * changed at all; a lone object's write is all-or-nothing by itself and goes out at once.
 */
export async function apply(files: string[], opts: GlobalOptions): Promise<void> {
  const api = new ApiClient(opts);
  const manifests: Manifest[] = [];
  for (const f of files) manifests.push(...(await readManifests(f)));
  if (manifests.length === 0) throw new UsageError(`no objects passed to apply`);

  const plans: Planned[] = [];
  const discovery = createDiscovery(api);
  for (const manifest of manifests) plans.push(await plan(api, discovery, manifest, opts.namespace));
  // Objects in a namespace this same apply creates cannot be dry-run before it exists.
  const newNamespaces = new Set(
    plans.filter((p) => p.info.kind === "Namespace" && !p.live).map((p) => p.desired.metadata.name),
  );
  if (plans.length > 1)
    for (const p of plans) if (!p.namespace || !newNamespaces.has(p.namespace)) await write(api, p, true);
  for (const p of plans) {
    const verb = await write(api, p, false);
    console.log(`${objectRef(p.info, p.desired.metadata.name!)} ${verb}`);
  }
}

async function plan(
  api: ApiClient,
  discovery: Discovery,
  manifest: Manifest,
  nsFlag: string | undefined,
): Promise<Planned> {
  const obj = manifest.object;
  const info = await discovery.byKind(obj.apiVersion, obj.kind);
  if (!info) {
    throw new ApiError(
      "BadRequest",
      `error validating ${manifest.source}: no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`,
    );
  }
  if (!obj.metadata?.name)
    throw new ApiError("Invalid", `error validating ${manifest.source}: metadata.name is required`);
  const namespace = info.namespaced ? (obj.metadata.namespace ?? nsFlag ?? "default") : undefined;
  if (info.namespaced && nsFlag && obj.metadata.namespace && obj.metadata.namespace !== nsFlag) {
    throw new UsageError(
      `the namespace from the provided object "${obj.metadata.namespace}" does not match the namespace "${nsFlag}". You must pass '--namespace=${obj.metadata.namespace}' to perform this operation.`,
    );
  }
  const desired: KubeObject = structuredClone(obj);
  if (namespace) desired.metadata.namespace = namespace;
  const applied = JSON.stringify(desired);
  desired.metadata.annotations = { ...(desired.metadata.annotations ?? {}), [LAST_APPLIED]: `${applied}\n` };

  let live: KubeObject | undefined;
  try {
    live = await api.get(resourcePath(info, namespace, obj.metadata.name));
  } catch (e) {
    if (!isApiError(e, "NotFound")) throw e;
  }
  if (!live) return { manifest, info, namespace, desired, live };
  const previous = parseLastApplied(live.metadata.annotations?.[LAST_APPLIED]);
  const patch = mergePatch(previous, desired);
  return { manifest, info, namespace, desired, live, patch };
}

async function write(api: ApiClient, p: Planned, dryRun: boolean): Promise<string> {
  const query = {
    dryRun: dryRun ? "All" : undefined,
    fieldManager: "minik-client-side-apply",
    fieldValidation: "Strict",
  };
  try {
    if (!p.live) {
      await api.request("POST", resourcePath(p.info, p.namespace), { body: p.desired, query });
      return "created";
    }
    if (!p.patch || Object.keys(p.patch).length === 0 || isSubset(p.patch, p.live)) return "unchanged";
    await api.request("PATCH", resourcePath(p.info, p.namespace, p.desired.metadata.name), {
      body: p.patch,
      contentType: "application/merge-patch+json",
      query,
    });
    return "configured";
  } catch (e) {
    if (e instanceof ApiError) {
      const what = p.live ? "applying patch" : "creating";
      throw new ApiError(e.reason, `error when ${what} "${p.manifest.source}": ${e.message}`, e.details);
    }
    throw e;
  }
}

function parseLastApplied(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/**
 * The JSON merge patch that makes live match the manifest: every value the manifest sets (so a
 * drifted field is put back, as kubectl's three-way apply does), and null for keys that the last
 * applied manifest had and this one dropped.
 */
export function mergePatch(previous: unknown, desired: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prev = isObject(previous) ? previous : {};
  const next = isObject(desired) ? desired : {};
  for (const key of Object.keys(prev)) if (!(key in next)) out[key] = null;
  for (const [key, value] of Object.entries(next)) {
    out[key] = isObject(value) ? mergePatch(prev[key], value) : value;
  }
  return out;
}

/** True when applying the patch would change nothing in `live`. */
function isSubset(patch: unknown, live: unknown): boolean {
  if (Array.isArray(patch)) {
    // list items may carry server defaults (protocol: TCP, …): compare item by item
    return Array.isArray(live) && live.length === patch.length && patch.every((v, i) => isSubset(v, live[i]));
  }
  if (!isObject(patch)) return JSON.stringify(patch) === JSON.stringify(live);
  if (!isObject(live)) return false;
  return Object.entries(patch).every(([k, v]) => (v === null ? !(k in live) : isSubset(v, live[k])));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
