import type { KubeObject, WatchEvent } from "../object.ts";
import type { ListOptions } from "../seams/client.ts";
import { parseFieldSelector, parseLabelSelector } from "../selectors.ts";
import type { Store } from "../store/store.ts";
import { objectKey } from "./metadata.ts";

/** Fields whose value never changes over an object's life, so matching on them never flips. */
const IMMUTABLE_FIELDS = new Set(["metadata.name", "metadata.namespace"]);

export type ObjectFilter = (obj: KubeObject) => boolean;

/** Builds the label+field filter of a list or watch; undefined when it matches everything. */
export function objectFilter(
  resource: string,
  options: ListOptions,
): { filter?: ObjectFilter; canFlip: boolean; name?: string } {
  const labels = parseLabelSelector(options.labelSelector);
  const fields = parseFieldSelector(resource, options.fieldSelector);
  if (labels.matchesAll && fields.matchesAll) return { canFlip: false };
  const canFlip = !labels.matchesAll || fields.requirements.some((r) => !IMMUTABLE_FIELDS.has(r.field));
  const name = fields.requirements.find((r) => r.field === "metadata.name" && r.operator === "=")?.value;
  return { filter: (o) => labels.matches(o.metadata.labels) && fields.matches(o), canFlip, name };
}

/**
 * Kubernetes watch semantics on top of the store's change feed:
 * - resourceVersion "0" or unset: one synthetic ADDED per existing matching object, then changes;
 * - "N": only changes after N (Expired from the store when N was compacted away);
 * - with a selector, an object that stops matching arrives as DELETED, one that starts as ADDED.
 */
export async function watchObjects(
  store: Store,
  resource: string,
  namespace: string | undefined,
  options: ListOptions & { resourceVersion?: string },
  onEvent: (event: WatchEvent) => void,
): Promise<() => void> {
  const { filter, canFlip } = objectFilter(resource, options);
  const matching = new Set<string>();
  const rv = options.resourceVersion;
  let since = rv;
  if (!rv || rv === "0" || canFlip) {
    const listed = await store.list(resource, namespace);
    for (const obj of listed.items) {
      if (filter && !filter(obj)) continue;
      if (canFlip) matching.add(objectKey(obj));
      if (!rv || rv === "0") onEvent({ type: "ADDED", object: obj });
    }
    if (!rv || rv === "0") since = listed.resourceVersion;
  }
  return store.watch({ resource, namespace, sinceResourceVersion: since }, (event) => {
    const object = event.object;
    if (!filter) return onEvent({ type: event.type, object });
    const matches = filter(object);
    if (!canFlip) {
      if (matches) onEvent({ type: event.type, object });
      return;
    }
    const key = objectKey(object);
    const was = matching.has(key);
    if (event.type === "DELETED") {
      matching.delete(key);
      if (was || matches) onEvent({ type: "DELETED", object });
    } else if (matches) {
      matching.add(key);
      onEvent({ type: event.type === "MODIFIED" && was ? "MODIFIED" : "ADDED", object });
    } else if (was) {
      matching.delete(key);
      onEvent({ type: "DELETED", object });
    }
  });
}
