/**
 * `bun run fuzz [--count N] [--seeds N] [--seed S]`: the API fuzz of core/api/fuzz.test.ts, run
 * longer and over a real loopback listener (cmd/serve.ts), so HTTP framing and header encoding
 * are exercised too. Exits non-zero on any 5xx, error without a Status, or object stored by a
 * failed write, printing the first findings.
 */
import { parseArgs } from "node:util";
import { serve } from "../cmd/serve.ts";
import { createApiServer } from "../core/api/app.ts";
import { FakeNodeServices } from "../core/api/testing/fake-node-services.ts";
import { type FuzzRequest, runFuzz } from "../core/api/testing/fuzz.ts";
import { createRegistry } from "../core/registry/registry.ts";
import { createSqlStore } from "../core/store/sql-store.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "12000" },
    seeds: { type: "string", default: "4" },
    seed: { type: "string", default: "1" },
  },
});
const count = Number(values.count);
const first = Number(values.seed);
const seeds = Number(values.seeds);

const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
const client = createRegistry(store);
await client.bootstrap();
const app = createApiServer({ client, node: new FakeNodeServices(), auth: { token: "t" } });
const server = serve(app, { hostname: "127.0.0.1", port: 0 });
const send = (r: FuzzRequest) =>
  fetch(`${server.url}${r.path}`, {
    method: r.method,
    headers: { Authorization: "Bearer t", ...r.headers },
    body: r.body,
  }).catch(
    (e: Error) => new Response(JSON.stringify({ kind: "Error", message: e.message }), { status: 599 }),
  );

let failed = 0;
const started = performance.now();
const rssBefore = process.memoryUsage().rss;
for (let seed = first; seed < first + seeds; seed++) {
  const report = await runFuzz({ seed, count: Math.ceil(count / seeds), send, client });
  failed += report.findings.length;
  console.log(`seed ${seed}: ${report.sent} requests, by status ${JSON.stringify(report.byStatus)}`);
  for (const f of report.findings.slice(0, 5)) {
    console.log(`  ${f.problem}: ${f.status} ${f.request.method} ${f.request.path}`);
    console.log(`    body: ${(f.request.body ?? "").slice(0, 300)}`);
    console.log(`    answer: ${f.body.slice(0, 300)}`);
  }
}
const rssGrowth = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
console.log(
  `${failed} findings; ${Math.round((performance.now() - started) / 1000)} s; RSS grew ${rssGrowth.toFixed(0)} MiB`,
);
await server.stop();
await store.close();
process.exit(failed ? 1 : 0);
