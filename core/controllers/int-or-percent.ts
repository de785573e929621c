/**
 * `IntOrString` values such as maxSurge "25%" or minAvailable 2, scaled against a total the way
 * Kubernetes does: percentages round up or down as asked (surge up, unavailable down).
 */
export function scaledValue(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback = 0,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "number") return value;
  const m = /^(\d+)%$/.exec(value.trim());
  if (!m) {
    const n = Number(value);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value "${value}": must be an integer or a percentage`);
  }
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
