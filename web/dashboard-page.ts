import { Hono } from "hono";
import { dashboardKit } from "./dashboard-kit.ts";
import { dashboardScript } from "./dashboard-script.ts";
import { DASHBOARD_CSS } from "./dashboard-style.ts";
import { type DashboardObject, dashboardViews, type ServedKind } from "./dashboard-views.ts";

export interface DashboardPageDeps {
  /** Lists a kind by store key (the registry's `list`); the first paint shows its result. */
  list?: (key: string) => Promise<{ items: object[] }>;
  /** Every kind the API serves; those without a view of their own get a plain one. */
  kinds?: ServedKind[];
}

/** The kinds the first paint shows before (or without) JavaScript. */
const FIRST_PAINT = ["nodes", "deployments.apps", "pods"];

/**
 * The dashboard at `/`: a server-rendered first paint of nodes, deployments and pods (readable
 * without JavaScript), then the script takes over with one live stream. No dependencies, no CDN:
 * the script is the source text of three typed functions. It authenticates with the session
 * that `minik dashboard`'s one-time link hands it (core/api/auth.ts says where it lives).
 */
export function createDashboardPage(deps: DashboardPageDeps = {}): Hono {
  const app = new Hono();
  const V = dashboardViews(deps.kinds);
  app.get("/", async (c) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-store");
    const now = Date.now();
    // Rows only for a request the API authenticated (the first paint after login); a reload
    // carries no session — its script connects with the one the page kept.
    const list = c.get("anonymousPage" as never) ? undefined : deps.list;
    const sections = await Promise.all(
      FIRST_PAINT.map(async (key) => {
        const view = V.views.find((v) => v.key === key)!;
        const items = list ? (await list(key).catch(() => ({ items: [] }))).items : [];
        const rows = (items as DashboardObject[]).sort(V.order(key)).slice(0, 200);
        const body = rows.length
          ? rows.map((o) => V.rowHtml(view, o, now)).join("")
          : `<tr><td class="muted" colspan="${view.cols.length}">none</td></tr>`;
        return `<section><h2>${view.title}</h2><div class="scroll"><table aria-label="${view.title}"><thead>${V.headHtml(view)}</thead><tbody>${body}</tbody></table></div></section>`;
      }),
    );
    return c.html(page(sections.join("\n"), new Date(now).toISOString(), deps.kinds ?? []));
  });
  return app;
}

function page(firstPaint: string, at: string, kinds: ServedKind[]): string {
  const V = dashboardViews(kinds);
  const groups = new Map<string, string[]>();
  for (const v of V.views) {
    const links = groups.get(v.group) ?? [];
    links.push(`<a href="#/${v.plural}">${v.title}<span class="n" id="count-${v.key}"></span></a>`);
    groups.set(v.group, links);
  }
  const nav = [...groups].map(([group, links]) => `<h2>${group}</h2>${links.join("")}`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>minik</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style></head>
<body><header class="top"><h1>minik</h1>
<label>Namespace <select id="ns"><option value="">All namespaces</option></select></label>
<span id="conn" role="status" aria-live="polite">connecting…</span>
<span class="end"><span id="note" role="status" aria-live="polite"></span><span id="who"></span><button type="button" id="logout" hidden>Log out</button></span></header>
<noscript><p>JavaScript is off: this is a snapshot taken at ${at}. Reload for a newer one; live updates, details, logs and actions need JavaScript.</p></noscript>
<div class="shell" id="shell"><nav aria-label="Views"><a href="#/">Overview</a>${nav}</nav>
<main id="main">${firstPaint}</main>
<aside id="detail" aria-label="Details" hidden></aside></div>
<div id="login" hidden role="alertdialog" aria-modal="true" aria-labelledby="login-title"><div>
<h2 id="login-title">Log in to minik</h2><p id="login-why"></p>
<p>Run <code>minik dashboard</code> in a terminal and open the one-time link it prints.</p></div></div>
<script>
{const V = (${dashboardViews.toString()})(${JSON.stringify(kinds).replace(/</g, "\\u003c")});
(${dashboardScript.toString()})(V, (${dashboardKit.toString()})(V));}
</script></body></html>`;
}
