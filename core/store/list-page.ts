/**
 * One page of an ordered list: the items after a (namespace, name) key, at most `limit` of them.
 * Both stores hold a list's items in namespace-then-name order (code units); finding where a page
 * starts is a binary search that looks at O(log n) keys, so a store decodes only the page.
 */
export interface PageKey {
  namespace: string;
  name: string;
}

export function compareKeys(a: PageKey, b: PageKey): number {
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/** [from, to) of the page within `count` ordered items; `keyAt` reads the key of one item. */
export function pageBounds(
  count: number,
  keyAt: (i: number) => PageKey,
  after: PageKey | undefined,
  limit: number | undefined,
): { from: number; to: number } {
  let from = 0;
  if (after) {
    let hi = count;
    while (from < hi) {
      const mid = (from + hi) >>> 1;
      if (compareKeys(keyAt(mid), after) > 0) hi = mid;
      else from = mid + 1;
    }
  }
  const to = limit && limit > 0 ? Math.min(count, from + limit) : count;
  return { from, to };
}
