import { Hono } from "hono";
import { statusPageScript } from "./status-page-script.ts";

/**
 * The status page at `/`: nodes, deployments and pods, updated live from the API's own watch
 * streams. One HTML document with a little inline script and no dependencies; it authenticates
 * with the HttpOnly cookie that `minik dashboard`'s one-time link sets.
 */
export function createStatusPage(): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
    );
    return c.html(PAGE);
  });
  return app;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>minik</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
header{background:#1d2430;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}#conn{font-size:12px;opacity:.8}
main{padding:12px 20px;display:grid;gap:16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:8px 12px}
h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f3;font-variant-numeric:tabular-nums}
th{font-size:12px;color:#5b6574;text-transform:uppercase}
.ok{color:#137333}.warn{color:#b06000}.bad{color:#c5221f}.muted{color:#8a93a0}
</style></head>
<body><header><h1>minik</h1><span id="conn">connecting…</span></header>
<main>
<section><h2>Nodes</h2><table id="nodes"></table></section>
<section><h2>Deployments</h2><table id="deployments"></table></section>
<section><h2>Pods</h2><table id="pods"></table></section>
</main>
<script>
(${statusPageScript.toString()})();
</script></body></html>`;
