/**
 * Status conditions as Kubernetes keeps them: one per type; lastTransitionTime moves only when
 * the status flips.
 */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastHeartbeatTime?: string;
  lastProbeTime?: string | null;
}

export function getCondition<C extends Condition>(conditions: C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Returns the list with `next` in place of the condition of its type. Keeps the old
 * lastTransitionTime when the status did not change, and the old entry entirely when nothing
 * but times differ, so a reconcile that finds nothing new writes nothing new.
 */
export function setCondition<C extends Condition>(
  conditions: C[] | undefined,
  next: Omit<C, "lastTransitionTime"> & { lastTransitionTime?: string },
  now: string,
): C[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  if (old && old.status === next.status && old.reason === next.reason && old.message === next.message)
    return list;
  const flipped = !old || old.status !== next.status;
  const stamped = { ...next, lastTransitionTime: flipped ? now : (old?.lastTransitionTime ?? now) } as C;
  if (i >= 0) list[i] = stamped;
  else list.push(stamped);
  return list;
}

export function removeCondition<C extends Condition>(conditions: C[] | undefined, type: string): C[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
