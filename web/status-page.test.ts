import { expect, test } from "bun:test";
import { waitFor } from "../test/support/env.ts";
import { createStatusPage } from "./status-page.ts";

test("the status page embeds its script as valid, self-contained JavaScript", async () => {
  const res = await createStatusPage().request("/");
  expect(res.headers.get("content-security-policy")).toContain("script-src 'unsafe-inline'");
  const html = await res.text();
  const script = html.slice(html.indexOf("<script>") + "<script>".length, html.indexOf("</script>"));
  // Parsing as a function body throws on a syntax error; the script must name no outer binding.
  expect(() => new Function(script)).not.toThrow();
  expect(script).not.toContain("__name");
  for (const path of ["/api/v1/nodes", "/apis/apps/v1/deployments", "/api/v1/pods"])
    expect(script).toContain(path);
  expect(html).toContain("<h2>Deployments</h2>");
});

test("the script lists each kind into its table, using nothing but the page's globals", async () => {
  const html = await (await createStatusPage().request("/")).text();
  const script = html.slice(html.indexOf("<script>") + "<script>".length, html.indexOf("</script>"));
  const tables = new Map<string, { innerHTML: string; textContent: string }>();
  const document = {
    getElementById: (id: string) => {
      if (!tables.has(id)) tables.set(id, { innerHTML: "", textContent: "" });
      return tables.get(id);
    },
  };
  const pod = {
    metadata: { name: "web-1", namespace: "default", uid: "u1", creationTimestamp: new Date().toISOString() },
    spec: { containers: [{ name: "c" }] },
    status: { phase: "Running", podIP: "10.88.0.5", containerStatuses: [{ ready: true, restartCount: 2 }] },
  };
  const fetch = async (url: string) =>
    url.includes("watch=1")
      ? new Response(new ReadableStream({ start: () => {} }))
      : Response.json({
          kind: "List",
          metadata: { resourceVersion: "7" },
          items: url.endsWith("/pods") ? [pod] : [],
        });
  const timers: unknown[] = [];
  const run = new Function("document", "fetch", "setInterval", script);
  run(document, fetch, (f: unknown) => timers.push(f));
  const pods = await waitFor(() => tables.get("pods")?.innerHTML, { what: "the pods table" });
  expect(pods).toContain('<td class="ok">Running</td>');
  expect(pods).toContain(">web-1<");
  expect(pods).toContain(">1/1<");
  expect(pods).toContain(">2<");
  expect(tables.get("deployments")?.innerHTML).toContain("none");
  expect(tables.get("conn")?.textContent).toBe("live");
  expect(timers.length).toBe(1);
});
