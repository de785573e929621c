import type { KubeObject, WatchEvent } from "../object.ts";

export type StoreEvent = WatchEvent & { resource: string; prevObject?: KubeObject };

export interface WatchFilter {
  resource?: string;
  namespace?: string;
}

/** A committed change as the hub sees it: revision and JSON, parsed once per subscriber. */
export interface Change {
  revision: number;
  resource: string;
  namespace: string;
  type: WatchEvent["type"];
  json: string;
  /** MODIFIED: the object before the change. */
  prev?: string | undefined;
}

interface Subscriber {
  filter: WatchFilter;
  onEvent: (event: StoreEvent) => void;
  /** Highest revision delivered (or replayed); anything at or below is a duplicate. */
  last: number;
  /** Live changes held back while the replay is still being delivered. */
  held: Change[] | undefined;
  stopped: boolean;
}

export function matches(filter: WatchFilter, c: { resource: string; namespace: string }): boolean {
  return (
    (filter.resource === undefined || filter.resource === c.resource) &&
    (filter.namespace === undefined || filter.namespace === c.namespace)
  );
}

/**
 * In-process fan-out of committed changes. `publish` runs right after each commit (under the
 * store's write lock), so subscribers see revisions in order and at once. A subscriber that
 * starts with a replay holds live changes until the replay is delivered, then drains them,
 * skipping anything at or below the last revision it saw: no gap, no duplicate.
 */
export class WatchHub {
  #subs = new Set<Subscriber>();

  /**
   * Registers a subscriber that has seen everything up to `after`. Call it synchronously with
   * reading the store's revision, so no publish falls between. With `replaying`, live changes are
   * held until `goLive`; feed the replay to `deliver` first.
   */
  subscribe(filter: WatchFilter, onEvent: (event: StoreEvent) => void, after: number, replaying: boolean) {
    const sub: Subscriber = {
      filter,
      onEvent,
      last: after,
      held: replaying ? [] : undefined,
      stopped: false,
    };
    this.#subs.add(sub);
    return {
      /** Delivers replayed changes (in revision order). */
      deliver: (changes: Iterable<Change>) => {
        for (const c of changes) this.#deliver(sub, c);
      },
      /** Delivers what arrived live during the replay, then delivers live changes as they come. */
      goLive: () => {
        const held = sub.held ?? [];
        sub.held = undefined;
        for (const c of held) this.#deliver(sub, c);
      },
      stop: () => {
        sub.stopped = true;
        sub.held = undefined;
        this.#subs.delete(sub);
      },
      get stopped() {
        return sub.stopped;
      },
    };
  }

  publish(change: Change): void {
    for (const sub of this.#subs) {
      if (!matches(sub.filter, change)) continue;
      if (sub.held) sub.held.push(change);
      else this.#deliver(sub, change);
    }
  }

  clear(): void {
    for (const sub of this.#subs) sub.stopped = true;
    this.#subs.clear();
  }

  #deliver(sub: Subscriber, c: Change): void {
    if (sub.stopped || c.revision <= sub.last) return;
    sub.last = c.revision;
    try {
      const event: StoreEvent = { type: c.type, object: JSON.parse(c.json), resource: c.resource };
      // parsed on first use: only selector watches look at the object before the change, and a
      // hundred plain watches of a MODIFIED would otherwise parse it a hundred times for nothing
      const prev = c.prev;
      if (prev) {
        let parsed: KubeObject | undefined;
        Object.defineProperty(event, "prevObject", {
          get: () => (parsed ??= JSON.parse(prev) as KubeObject),
          enumerable: true,
        });
      }
      sub.onEvent(event);
    } catch (e) {
      // A failing consumer must not break the writer that woke it, nor other watchers.
      console.error(`store: watch consumer failed at revision ${c.revision}:`, e);
    }
  }
}
