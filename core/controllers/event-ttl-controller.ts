import type { Event } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import { parseTime } from "../loop/clock.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

export interface EventTtlOptions {
  /** Events older than this go (kube-apiserver's --event-ttl: 1 h). */
  ttlMs?: number;
  /** At most this many events per namespace; the oldest go first. */
  maxPerNamespace?: number;
  /** How often to sweep. */
  everyMs?: number;
}

/**
 * Keeps Events bounded, as kube-apiserver's event TTL does: deletes those whose last occurrence
 * is older than the TTL, and the oldest beyond a per-namespace cap. One periodic key ("sweep").
 */
export function createEventTtlController(ctx: ControllerContext, options: EventTtlOptions = {}): Controller {
  const { client, clock } = ctx;
  const { ttlMs = 3_600_000, maxPerNamespace = 1000, everyMs = 60_000 } = options;
  const controller = createController({
    name: "event-ttl",
    log: ctx.log,
    workers: 1,
    reconcile: sweep,
    resync: { everyMs, keys: () => ["sweep"] },
  });
  return controller;

  async function sweep() {
    const { items } = await client.list<Kube<Event>>("events");
    const now = clock.now();
    const byNamespace = new Map<string, Kube<Event>[]>();
    const doomed: Kube<Event>[] = [];
    for (const e of items) {
      if (now - lastSeen(e) > ttlMs) doomed.push(e);
      else {
        const ns = e.metadata.namespace ?? "";
        byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), e]);
      }
    }
    for (const list of byNamespace.values()) {
      if (list.length <= maxPerNamespace) continue;
      list.sort((a, b) => lastSeen(a) - lastSeen(b));
      doomed.push(...list.slice(0, list.length - maxPerNamespace));
    }
    for (const e of doomed) {
      try {
        await client.delete("events", e.metadata.namespace ?? "", e.metadata.name!);
      } catch (err) {
        if (!isApiError(err, "NotFound")) throw err;
      }
    }
  }
}

function lastSeen(e: Event): number {
  const t = parseTime(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp);
  return Number.isNaN(t) ? 0 : t;
}
