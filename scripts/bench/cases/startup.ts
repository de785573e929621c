/** start → API answering: `minik up` on an empty data dir until /readyz. */
import { join } from "node:path";
import {
  type Bench,
  median,
  percentile,
  removeDir,
  rssKb,
  run,
  startMinik,
  tempDir,
  waitFor,
} from "../lib.ts";
import { settledMemory } from "./memory.ts";

/**
 * Control-plane-only starts (`--runtime none`) can be repeated without touching the host network;
 * the full node start (network, crun) is measured once, by the daemon the rest of the run uses.
 */
export async function startupCase(b: Bench, fullStartMs: number, samples = 7) {
  const ms: number[] = [];
  let noneRssKb = Number.NaN;
  for (let i = 0; i < samples; i++) {
    const dir = tempDir("up");
    const m = await startMinik(["--runtime", "none"], dir);
    ms.push(m.readyMs);
    if (i === samples - 1) noneRssKb = (await settledMemory(m)).daemonRssKb;
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
  // after the start rows: run.ts fills in the first of them (the node start) afterwards
  const hello = await helloWorldRssKb();
  b.rows.push({
    case: "memory",
    metric: "RSS idle: `minik up --runtime none` (control plane only; GC forced, median of 5)",
    unit: "MB",
    minik: noneRssKb / 1024,
    peer: { name: "compiled Bun `Bun.serve` hello world", value: hello / 1024 },
  });
}

/** The floor any Bun server pays: a compiled `Bun.serve` hello world, idle, after it answered once. */
async function helloWorldRssKb(): Promise<number> {
  const dir = tempDir("hello");
  try {
    const src = join(dir, "hello.ts");
    await Bun.write(
      src,
      `const s = Bun.serve({ port: 0, fetch: () => new Response("hi") }); console.log(s.port); setInterval(() => Bun.gc(true), 200);`,
    );
    const bin = join(dir, "hello");
    const built = await run([process.execPath, "build", "--compile", src, "--outfile", bin]);
    if (built.code !== 0) return Number.NaN;
    const proc = Bun.spawn([bin], { stdout: "pipe", stderr: "ignore" });
    try {
      const reader = proc.stdout.getReader();
      const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
      await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
      await Bun.sleep(1000);
      return await waitFor(() => rssKb(proc.pid), "hello world RSS");
    } finally {
      proc.kill("SIGKILL");
    }
  } finally {
    removeDir(dir);
  }
}
