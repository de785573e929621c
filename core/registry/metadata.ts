import type { ObjectMeta } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../object.ts";
import type { Mutable } from "./strategy.ts";

/** An object's metadata, writable. */
export function metaOf(obj: KubeObject): Mutable<ObjectMeta> {
  return obj.metadata as Mutable<ObjectMeta>;
}

const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** RFC3339 with second precision, as Kubernetes serialises metav1.Time. */
export function rfc3339(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}

/** The 5 random characters Kubernetes appends to generateName (no vowels, no look-alikes). */
export function randomSuffix(length = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length];
  return out;
}

export function newUid(): string {
  return crypto.randomUUID();
}

/** `namespace/name` (or `name` for cluster-scoped objects), for logs and watch bookkeeping. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : obj.metadata.name!;
}

/** True when nothing holds the object back from removal once it is being deleted. */
export function finalizersDone(obj: KubeObject): boolean {
  if (obj.metadata.finalizers?.length) return false;
  // A namespace also waits for the namespace controller's spec.finalizers ("kubernetes").
  const specFinalizers = (obj.spec as { finalizers?: string[] } | undefined)?.finalizers;
  return !(obj.kind === "Namespace" && specFinalizers?.length);
}
