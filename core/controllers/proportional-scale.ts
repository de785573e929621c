/**
 * Spreads a change in a Deployment's size over its active ReplicaSets during a rollout, in
 * proportion to their sizes (a simplified form of Kubernetes' proportional scaling): growth
 * favours the new ReplicaSet, shrinking takes from the old ones first.
 */
export interface ScaleShare {
  uid: string;
  replicas: number;
  isNew: boolean;
}

export function proportionalScale(sets: ScaleShare[], allowed: number): Map<string, number> {
  const total = sets.reduce((n, s) => n + s.replicas, 0);
  const delta = allowed - total;
  const out = new Map(sets.map((s) => [s.uid, s.replicas]));
  if (delta === 0 || total === 0) return out;
  let left = delta;
  for (const s of sets) {
    const share = Math.trunc((s.replicas * delta) / total);
    const n = delta > 0 ? Math.min(share, left) : Math.max(share, left, -s.replicas);
    out.set(s.uid, s.replicas + n);
    left -= n;
  }
  // The rounding leftover goes to the new ReplicaSet when growing, the oldest ones when shrinking.
  const order =
    delta > 0
      ? [...sets].sort((a, b) => Number(b.isNew) - Number(a.isNew))
      : [...sets].sort((a, b) => Number(a.isNew) - Number(b.isNew));
  for (const s of order) {
    if (left === 0) break;
    const current = out.get(s.uid)!;
    const n = delta > 0 ? left : Math.max(left, -current);
    out.set(s.uid, current + n);
    left -= n;
  }
  return out;
}
