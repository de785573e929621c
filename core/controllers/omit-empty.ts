/**
 * Go's `omitempty` for status counts: Kubernetes does not serialise a zero count, so neither do
 * we (clients read a missing count as 0). Fields named in `keep` are always written.
 */
export function omitZeros<T extends object>(status: T, keep: (keyof T)[] = []): T {
  return Object.fromEntries(
    Object.entries(status).filter(([k, v]) => v !== undefined && (v !== 0 || keep.includes(k as keyof T))),
  ) as T;
}
