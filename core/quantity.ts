/**
 * Kubernetes resource quantities (`500m`, `1.5`, `128Mi`, `1G`, `1e3`) as numbers. The scheduler,
 * node controller and HPA need arithmetic on them, not the exact canonical form.
 */
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The quantity's value in base units (cores, bytes); NaN when it does not parse. */
export function parseQuantity(text: string | number | undefined): number {
  if (typeof text === "number") return text;
  if (!text) return Number.NaN;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(
    text.trim(),
  );
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? "";
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? Number.NaN);
}

/** CPU in millicores, rounded up like Kubernetes' MilliValue. */
export function cpuMillis(text: string | number | undefined): number {
  const v = parseQuantity(text);
  return Number.isNaN(v) ? 0 : Math.ceil(Math.round(v * 1e9) / 1e6);
}

/** Bytes (or any plain count), rounded up. */
export function quantityValue(text: string | number | undefined): number {
  const v = parseQuantity(text);
  return Number.isNaN(v) ? 0 : Math.ceil(v);
}

/** `250m` for fractions of a core, `2` for whole cores. */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Bytes as Kubernetes prints node memory: whole Ki. */
export function formatKi(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}
