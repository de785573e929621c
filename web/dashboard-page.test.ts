import { describe, expect, test } from "bun:test";
import { dashboardKit } from "./dashboard-kit.ts";
import { createDashboardPage } from "./dashboard-page.ts";
import { dashboardViews } from "./dashboard-views.ts";

const now = Date.parse("2026-12-01T12:00:00Z");
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-1", namespace: "default", uid: "u1", creationTimestamp: "2026-12-01T11:59:00Z" },
  spec: { containers: [{ name: "c" }] },
  status: { phase: "Running", podIP: "10.88.0.5", containerStatuses: [{ ready: true, restartCount: 2 }] },
};

describe("the dashboard page", () => {
  test("its script is valid, self-contained JavaScript and the page ships small", async () => {
    const res = await createDashboardPage().request("/");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await res.text();
    const script = html.slice(html.indexOf("<script>") + "<script>".length, html.indexOf("</script>"));
    // parsing as a function body throws on a syntax error; the script may name no outer binding
    expect(() => new Function(script)).not.toThrow();
    expect(script).not.toContain("__name");
    expect(html).toContain('role="status" aria-live="polite"');
    expect(html).toContain("<noscript>");
    // stated in the README: the whole dashboard is one document (source text, unminified)
    expect(new TextEncoder().encode(html).length).toBeLessThan(80_000);
  });

  test("the first paint renders the rows on the server, escaped", async () => {
    const evil = { ...pod, metadata: { ...pod.metadata, uid: "u2", name: "<img src=x>" } };
    const page = createDashboardPage({
      list: async (key) => ({ items: key === "pods" ? [pod, evil] : [] }),
    });
    const html = await (await page.request("/")).text();
    const main = html.slice(html.indexOf('<main id="main">'), html.indexOf("</main>"));
    expect(main).toContain('<a href="#/pods/default/web-1">web-1</a>');
    expect(main).toContain('<td class="ok">Running</td>');
    expect(main).toContain("&lt;img src=x&gt;");
    expect(main).not.toContain("<img");
    expect(main).toContain("<h2>Deployments</h2>");
  });
});

describe("the views", () => {
  const V = dashboardViews();

  test("rows read like kubectl's columns", () => {
    const pods = V.views.find((v) => v.key === "pods")!;
    expect(pods.row(pod as never, now)).toEqual([
      "default",
      "web-1",
      "1/1",
      "Running",
      "2",
      "10.88.0.5",
      "60s",
    ]);
    // a native sidecar counts in READY, as in kubectl
    const withSidecar = {
      ...pod,
      spec: { ...pod.spec, initContainers: [{ name: "log", restartPolicy: "Always" }, { name: "init" }] },
      status: {
        ...pod.status,
        initContainerStatuses: [
          { name: "log", ready: false },
          { name: "init", ready: false },
        ],
      },
    };
    expect(pods.row(withSidecar as never, now)[2]).toBe("1/2");
    const services = V.views.find((v) => v.key === "services")!;
    const svc = {
      metadata: { name: "s", namespace: "default", uid: "s", creationTimestamp: "2026-12-01T10:00:00Z" },
      spec: { type: "NodePort", clusterIP: "10.96.0.10", ports: [{ port: 80, nodePort: 30080 }] },
    };
    expect(services.row(svc as never, now)).toEqual([
      "default",
      "s",
      "NodePort",
      "10.96.0.10",
      "80:30080/TCP",
      "2h",
    ]);
  });

  test("quantities and tones", () => {
    expect(V.bytes("8029152Ki")).toBe(8029152 * 1024);
    expect(V.cores("250m")).toBe(0.25);
    expect(V.cores("1500000n")).toBeCloseTo(0.0015);
    expect(V.showCores(2)).toBe("2.00 cores");
    expect(V.tone("CrashLoopBackOff")).toBe("bad");
    expect(V.tone("Pending")).toBe("warn");
    expect(V.tone("Running")).toBe("ok");
  });

  test("a kind served later, without a view of its own, gets a plain one in the page", async () => {
    const job = { key: "jobs.batch", kind: "Job", plural: "jobs", base: "/apis/batch/v1", namespaced: true };
    const views = dashboardViews([job]);
    const jobs = views.views.find((v) => v.key === "jobs.batch")!;
    expect(jobs.title).toBe("Jobs");
    expect(jobs.row(pod as never, now)).toEqual(["default", "web-1", "60s"]);
    const html = await (await createDashboardPage({ kinds: [job] }).request("/")).text();
    expect(html).toContain('<a href="#/jobs">Jobs');
    const script = html.slice(html.indexOf("<script>") + "<script>".length, html.indexOf("</script>"));
    expect(() => new Function(script)).not.toThrow();
  });

  test("every kind minik serves has a view (its own, or the plain one for kinds added later)", async () => {
    const { RESOURCES, resourceKey } = await import("../core/resources.ts");
    const { dashboardKinds } = await import("../core/api/dashboard-api.ts");
    const served = dashboardViews(dashboardKinds());
    expect(served.views.map((v) => v.key).sort()).toEqual(RESOURCES.map(resourceKey).sort());
  });
});

describe("the kit", () => {
  const K = dashboardKit(dashboardViews());

  test("YAML of an object", () => {
    expect(K.yaml({ a: 1, b: { c: ["x", { d: "y: z" }] }, e: [], f: "true" })).toBe(
      'a: 1\nb:\n  c:\n    - x\n    - d: "y: z"\ne: []\nf: "true"',
    );
  });

  test("a chart is an SVG line with its latest value in words", () => {
    const html = K.chart("Node CPU", [0.1, 0.5, 0.25], (n) => `${n}`);
    expect(html).toContain('aria-label="Node CPU: 0.25 now, peak 0.5"');
    expect(html).toContain("<polyline points=");
    expect(K.chart("Node CPU", [], String, "no metrics")).not.toContain("<svg");
  });
});
