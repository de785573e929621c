import type { PodTemplateSpec } from "kubernetes-types/core/v1";

/**
 * The `pod-template-hash` label: FNV-32a over the pod template, plus the collision count,
 * printed as a decimal and mapped onto Kubernetes' "safe" alphabet (no vowels, no 0/1/3, so a
 * hash never spells a word or looks like a number). Kubernetes hashes a Go dump of the struct;
 * we hash canonical JSON of the normalised template, so equal templates give equal hashes.
 */
export const POD_TEMPLATE_HASH = "pod-template-hash";

/** No vowels and no 0/1/3, so generated names never spell words. */
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Kubernetes' `rand.SafeEncodeString`: each character picks a letter of the safe alphabet. */
export function safeEncode(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  const bytes = new TextEncoder().encode(canonicalJson(normalizeTemplate(template)));
  let hash = fnv32a(bytes);
  if (collisionCount !== undefined && collisionCount !== null) {
    // Like Kubernetes: the count's four little-endian bytes continue the same FNV stream.
    const extra = new Uint8Array(4);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(extra, hash);
  }
  return safeEncode(String(hash));
}

/**
 * The template with what must not count as a difference removed: nulls, empty objects and
 * lists (kubectl's rollout undo sends `"creationTimestamp":null` and `"resources":{}`), and the
 * pod-template-hash label.
 */
export function normalizeTemplate(template: PodTemplateSpec | undefined): unknown {
  const copy = structuredClone(template ?? {}) as PodTemplateSpec;
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
  return prune(copy) ?? {};
}

/** Templates equal apart from what `normalizeTemplate` drops (Kubernetes' EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(normalizeTemplate(a)) === canonicalJson(normalizeTemplate(b));
}

function prune(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => prune(v) ?? {});
    return items.length ? items : undefined;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value;
}

/** JSON with object keys sorted, so equal values print equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
