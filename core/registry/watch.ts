import type { KubeObject, WatchEvent } from "../object.ts";
import type { ListOptions } from "../seams/client.ts";
import { parseFieldSelector, parseLabelSelector } from "../selectors.ts";
import type { Store } from "../store/store.ts";

export type ObjectFilter = (obj: KubeObject) => boolean;

/** Builds the label+field filter of a list or watch; undefined when it matches everything. */
export function objectFilter(
  resource: string,
  options: ListOptions,
): { filter?: ObjectFilter; name?: string } {
  const labels = parseLabelSelector(options.labelSelector);
  const fields = parseFieldSelector(resource, options.fieldSelector);
  if (labels.matchesAll && fields.matchesAll) return {};
  const name = fields.requirements.find((r) => r.field === "metadata.name" && r.operator === "=")?.value;
  return { filter: (o) => labels.matches(o.metadata.labels) && fields.matches(o), name };
}

/**
 * Kubernetes watch semantics on top of the store's change feed:
 * - resourceVersion "0" or unset: one synthetic ADDED per existing matching object, then changes;
 * - "N": only changes after N (Expired from the store when N was compacted away);
 * - with a selector, an object that stops matching arrives as DELETED, one that starts as ADDED —
 *   decided per change from the object before and after it (the store's `prevObject`), so a
 *   watch resumed from an old resourceVersion gets them right too, whatever happened since.
 */
export async function watchObjects(
  store: Store,
  resource: string,
  namespace: string | undefined,
  options: ListOptions & { resourceVersion?: string },
  onEvent: (event: WatchEvent) => void,
): Promise<() => void> {
  const { filter } = objectFilter(resource, options);
  const rv = options.resourceVersion;
  let since = rv;
  if (!rv || rv === "0") {
    const listed = await store.list(resource, namespace);
    for (const obj of listed.items) if (!filter || filter(obj)) onEvent({ type: "ADDED", object: obj });
    since = listed.resourceVersion;
  }
  return store.watch({ resource, namespace, sinceResourceVersion: since }, (event) => {
    if (!filter) return onEvent({ type: event.type, object: event.object });
    const seen = throughSelector(event, filter);
    if (seen) onEvent(seen);
  });
}

/**
 * One change as a selector watcher sees it, as kube-apiserver's cacheWatcher decides: matching
 * before and after → MODIFIED, only after → ADDED, only before → DELETED carrying the object as it
 * last matched with the change's resourceVersion; neither → nothing.
 */
export function throughSelector(
  event: WatchEvent & { prevObject?: KubeObject },
  filter: ObjectFilter,
): WatchEvent | undefined {
  const { type, object, prevObject } = event;
  if (type !== "MODIFIED") return filter(object) ? { type, object } : undefined;
  const now = filter(object);
  // A change logged before the store kept prevObject: all that is known is the object now.
  const was = prevObject ? filter(prevObject) : now;
  if (now) return { type: was ? "MODIFIED" : "ADDED", object };
  if (!was || !prevObject) return undefined;
  const resourceVersion = object.metadata.resourceVersion;
  return {
    type: "DELETED",
    object: { ...prevObject, metadata: { ...prevObject.metadata, resourceVersion } },
  };
}
