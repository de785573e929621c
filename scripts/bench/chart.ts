/**
 * The growth curves as one small SVG (no chart library): a row of line charts, each with its
 * points labelled, so a reader sees the slope at a glance. Written next to RESULTS.md.
 */
import type { Curves } from "./cases/growth.ts";

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

interface Panel {
  title: string;
  x: string;
  y: string;
  series: Series[];
}

const W = 300;
const H = 220;
const PAD = { left: 48, right: 12, top: 28, bottom: 40 };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const num = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function panel(p: Panel, offsetX: number): string {
  const all = p.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (!all.length) return "";
  const xMax = Math.max(...all.map(([x]) => x));
  const yMax = Math.max(...all.map(([, y]) => y)) * 1.15 || 1;
  const sx = (x: number) => offsetX + PAD.left + (x / xMax) * (W - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (1 - y / yMax) * (H - PAD.top - PAD.bottom);
  const out = [
    `<text x="${offsetX + W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(xMax)}" y2="${sy(0)}" stroke="#444"/>`,
    `<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(0)}" y2="${PAD.top}" stroke="#444"/>`,
    `<text x="${offsetX + W / 2}" y="${H - 6}" text-anchor="middle">${esc(p.x)}</text>`,
    `<text x="${offsetX + 12}" y="${PAD.top - 8}">${esc(p.y)}</text>`,
    `<text x="${sx(0) - 4}" y="${(sy(yMax / 1.15) + 4).toFixed(1)}" text-anchor="end">${num(yMax / 1.15)}</text>`,
    `<text x="${sx(0) - 4}" y="${sy(0) + 4}" text-anchor="end">0</text>`,
  ];
  const xs = [...new Set(all.map(([x]) => x))];
  for (const x of xs) out.push(`<text x="${sx(x)}" y="${sy(0) + 14}" text-anchor="middle">${x}</text>`);
  p.series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const [x, y] of pts)
      out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(
      `<text x="${sx(xMax) - 4}" y="${PAD.top + 12 + i * 13}" text-anchor="end" fill="${s.color}">${esc(s.name)}: ${pts.map(([, y]) => num(y)).join(" → ")}</text>`,
    );
  });
  return out.join("\n");
}

export function growthChart(c: Partial<Curves>, caption: string): string {
  const panels: Panel[] = [];
  if (c.replicas?.length) {
    panels.push({
      title: "replicas → all Running",
      x: "replicas",
      y: "ms",
      series: [
        { name: "minik", color: "#1f77b4", points: c.replicas.map((p) => [p.n, p.minikMs]) },
        {
          name: "crun ×n",
          color: "#d62728",
          points: c.replicas.filter((p) => p.crunMs !== undefined).map((p) => [p.n, p.crunMs!]),
        },
      ],
    });
    panels.push({
      title: "daemon RSS with the replicas",
      x: "replicas",
      y: "MB",
      series: [{ name: "RSS", color: "#2ca02c", points: c.replicas.map((p) => [p.n, p.rssMb]) }],
    });
  }
  if (c.objects?.length)
    panels.push({
      title: "API p99 vs objects stored",
      x: "ConfigMaps",
      y: "ms",
      series: [
        { name: "get", color: "#1f77b4", points: c.objects.map((p) => [p.n, p.getP99]) },
        { name: "create", color: "#ff7f0e", points: c.objects.map((p) => [p.n, p.createP99]) },
        { name: "list all", color: "#9467bd", points: c.objects.map((p) => [p.n, p.listP99]) },
      ],
    });
  if (c.watchers?.length)
    panels.push({
      title: "watch delivery vs watches open",
      x: "watches",
      y: "ms",
      series: [
        { name: "p50", color: "#1f77b4", points: c.watchers.map((p) => [p.n, p.p50]) },
        { name: "p99", color: "#d62728", points: c.watchers.map((p) => [p.n, p.p99]) },
      ],
    });
  const width = panels.length * W;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${H + 20}" font-family="sans-serif" font-size="11">`,
    `<title>minik growth curves: ${esc(panels.map((p) => p.title).join("; "))}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W)),
    `<text x="6" y="${H + 14}" fill="#666">${esc(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
