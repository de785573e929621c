/** start → API answering: `minik up` on an empty data dir until /readyz. */
import { type Bench, median, percentile, removeDir, startMinik, tempDir } from "../lib.ts";

/**
 * Control-plane-only starts (`--runtime none`) can be repeated without touching the host network;
 * the full node start (network, crun) is measured once, by the daemon the rest of the run uses.
 */
export async function startupCase(b: Bench, fullStartMs: number, samples = 7) {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const dir = tempDir("up");
    const m = await startMinik(["--runtime", "none"], dir);
    ms.push(m.readyMs);
    await m.stop();
    removeDir(dir);
  }
  b.log(`up --runtime none → /readyz: ${ms.map((v) => v.toFixed(0)).join(" ")} ms`);
  const target = { op: "<=" as const, value: 300, text: "≤ 300 ms" };
  b.rows.push({
    case: "start → API answering",
    metric: "up (node: network + crun), 1 sample",
    unit: "ms",
    minik: fullStartMs,
    target,
  });
  b.rows.push({
    case: "start → API answering",
    metric: `up --runtime none, p50 of ${samples}`,
    unit: "ms",
    minik: median(ms),
    target,
  });
  b.rows.push({
    case: "start → API answering",
    metric: `up --runtime none, max of ${samples}`,
    unit: "ms",
    minik: percentile(ms, 100),
  });
}
