import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { FakeNodeServices } from "../../core/api/testing/fake-node-services.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import {
  type DashboardServer,
  deployment,
  hasChromium,
  launchChromium,
  pod,
  startDashboardServer,
} from "./harness.ts";

const skip = skipUnless(
  hasChromium,
  "dashboard browser tests",
  "no /usr/bin/chromium (apt-get install chromium)",
);
const SHOTS = join(import.meta.dir, "../../web/screenshots");

describe.skipIf(skip)("the dashboard in headless Chromium", () => {
  let browser: Browser;
  const dirs: string[] = [];
  const servers: DashboardServer[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    for (const s of servers) await s.stop().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function server(options: Parameters<typeof startDashboardServer>[1] = {}, dir?: string) {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), "minik-dashboard-"));
    if (!dir) dirs.push(dataDir);
    const s = await startDashboardServer(dataDir, options);
    servers.push(s);
    return { s, dataDir };
  }

  /** A logged-in page whose console errors and page errors are collected. */
  async function open(s: DashboardServer, viewport = { width: 1280, height: 800 }, javaScriptEnabled = true) {
    const context = await browser.newContext({ viewport, javaScriptEnabled });
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(await s.loginLink());
    if (javaScriptEnabled) await live(page);
    return { context, page, errors };
  }

  function watchErrors(page: Page): string[] {
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    return errors;
  }

  const live = (page: Page) =>
    waitFor(async () => (await page.locator("#conn").textContent()) === "live", { what: "a live stream" });

  test("login link, a new Deployment's row within a second, namespace filter, secret values on demand, one-time link, no console errors", async () => {
    const { s } = await server();
    await s.registry.create("deployments.apps", deployment("first"));
    // without a session the page is its shell: no rows (a reload's script brings its own session)
    const html = await (await fetch(s.url)).text();
    expect(html).toContain("Log in to minik");
    expect(html).not.toContain(">first<");
    const { page, errors } = await open(s);
    expect(await page.locator("#conn").getAttribute("aria-live")).toBe("polite");
    const started = Date.now();
    await s.registry.create("deployments.apps", deployment("second"));
    await page.locator("tr", { hasText: "second" }).waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await page.locator("#rows-deployments\\.apps tr").count()).toBe(2);
    // the namespace filter
    await page.locator("#ns").selectOption("kube-system");
    await page.locator("#rows-deployments\\.apps", { hasText: "none" }).waitFor();
    await page.locator("#ns").selectOption("");
    await page.locator("#rows-deployments\\.apps tr", { hasText: "first" }).waitFor();
    // a Secret's values stay hidden until asked for
    await s.registry.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "pw", namespace: "default" },
      data: { password: btoa("hunter2") },
    });
    await page.goto(`${s.url}/#/secrets/default/pw`);
    await page.locator("#yaml", { hasText: "name: pw" }).waitFor();
    expect(await page.locator("#detail").textContent()).not.toContain("hunter2");
    await page.getByRole("button", { name: "Show values" }).click();
    await page.locator("#secret-values", { hasText: "password: hunter2" }).waitFor();
    // the login link was one-time
    const link = await s.loginLink();
    expect((await fetch(link, { redirect: "manual" })).status).toBe(302);
    expect((await fetch(link, { redirect: "manual" })).status).toBe(401);
    expect(errors).toEqual([]);
  }, 30_000);

  test("an app on another port of 127.0.0.1 gets no cookie it could use, and its page is refused", async () => {
    const { s } = await server();
    const { page } = await open(s);
    // a NodePort app: same host, another port — browsers send it every cookie of 127.0.0.1
    const seen: string[] = [];
    const app = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        seen.push(req.headers.get("Cookie") ?? "");
        return new Response("<!doctype html><title>app</title><p>app</p>", {
          headers: { "Content-Type": "text/html" },
        });
      },
    });
    try {
      const other = `http://127.0.0.1:${app.port}`;
      await page.goto(`${other}/`);
      // replayed from the app's server, whatever cookies it got open nothing
      for (const cookie of seen) {
        const res = await fetch(`${s.url}/api/v1/namespaces/default/secrets`, {
          headers: { Cookie: cookie },
        });
        expect(res.status).toBe(401);
      }
      // and the app's own page, with the browser adding what it would, is refused
      const status = await page.evaluate(async (url) => {
        const res = await fetch(`${url}/api/v1/namespaces/default/secrets`, { credentials: "include" }).catch(
          () => undefined,
        );
        return res ? res.status : "blocked";
      }, s.url);
      expect(status === "blocked" || status === 401 || status === 403).toBe(true);
      const direct = await page.request.get(`${s.url}/api/v1/namespaces/default/secrets`, {
        headers: { Origin: other },
      });
      expect([401, 403]).toContain(direct.status());
      // back on the dashboard, the session the page kept (this origin's storage) still works
      await page.goto(`${s.url}/`);
      await live(page);
    } finally {
      app.stop(true);
    }
  }, 30_000);

  test("without JavaScript the first paint shows the rows and says why nothing moves", async () => {
    const { s } = await server();
    await s.registry.create("deployments.apps", deployment("static"));
    const { page } = await open(s, { width: 1280, height: 800 }, false);
    expect(await page.locator("main").textContent()).toContain("static");
    expect(await page.locator("noscript").count()).toBe(1);
    expect(await page.content()).toContain("JavaScript is off");
  }, 30_000);

  test("a text selection survives live updates and the age ticker", async () => {
    const { s } = await server();
    await s.registry.create("deployments.apps", deployment("keep-me-selected"));
    const { page } = await open(s);
    const cell = page.locator("tr", { hasText: "keep-me-selected" }).locator("a");
    await cell.waitFor();
    await page.evaluate(() => {
      const a = [...document.querySelectorAll("main a")].find((x) => x.textContent === "keep-me-selected")!;
      const range = document.createRange();
      range.selectNodeContents(a);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
    });
    for (let i = 0; i < 5; i++) await s.registry.create("pods", pod(`churn-${i}`));
    await s.registry.patch("deployments.apps", "default", "keep-me-selected", "merge", {
      spec: { replicas: 3 },
    });
    await page.locator("tr", { hasText: "keep-me-selected" }).locator("td", { hasText: "0/3" }).waitFor();
    await page.waitForTimeout(5500); // one tick of the age ticker
    expect(await page.evaluate(() => getSelection()!.toString())).toBe("keep-me-selected");
  }, 30_000);

  test("ten tabs of one browser all stay live", async () => {
    const { s } = await server();
    const { context } = await open(s);
    const pages = [context.pages()[0]!];
    for (let i = 1; i < 10; i++) {
      const p = await context.newPage();
      await p.goto(s.url);
      pages.push(p);
    }
    await Promise.all(pages.map(live));
    await s.registry.create("deployments.apps", deployment("seen-by-all"));
    await Promise.all(
      pages.map((p) => p.locator("tr", { hasText: "seen-by-all" }).waitFor({ timeout: 5000 })),
    );
  }, 30_000);

  test("after a minik restart the page reconnects, resumes and shows what changed", async () => {
    const { s, dataDir } = await server();
    await s.registry.create("deployments.apps", deployment("before"));
    const { page, errors } = await open(s);
    await page.locator("tr", { hasText: "before" }).waitFor();
    await s.stop();
    await waitFor(async () => /reconnecting/.test((await page.locator("#conn").textContent()) ?? ""), {
      what: "the reconnecting state",
    });
    expect(await page.locator("main").getAttribute("class")).toContain("stale");
    const again = (await server({ port: s.port }, dataDir)).s;
    await again.registry.create("deployments.apps", deployment("after"));
    await again.registry.delete("deployments.apps", "default", "before");
    await page.locator("tr", { hasText: "after" }).waitFor({ timeout: 15_000 });
    await waitFor(async () => (await page.locator("tr", { hasText: "before" }).count()) === 0, {
      what: "the deleted row to go",
    });
    await live(page);
    // the browser logs the refused connections while minik is down; nothing else may fail
    expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket connection/.test(e))).toEqual([]);
  }, 30_000);

  test("scale, restart, undo, delete pod and cordon: confirmed, sent with the CSRF token; a request without it is refused", async () => {
    const { s } = await server();
    await s.registry.create("deployments.apps", deployment("web"));
    await s.registry.create("pods", pod("doomed"));
    await s.registry.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
    const { page, errors } = await open(s);
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(`${s.url}/#/deployments/default/web`);
    await page.locator("#replicas").fill("3");
    await page.getByRole("button", { name: "Scale" }).click();
    await waitFor(
      async () => (await s.registry.get<any>("deployments.apps", "default", "web")).spec.replicas === 3,
      {
        what: "replicas 3",
      },
    );
    expect(dialogs[0]).toContain("Scale deployments/web to 3 replicas?");

    await page.getByRole("button", { name: "Restart" }).click();
    await waitFor(
      async () =>
        (await s.registry.get<any>("deployments.apps", "default", "web")).spec.template.metadata
          .annotations?.["kubectl.kubernetes.io/restartedAt"],
      { what: "the restartedAt annotation" },
    );

    // undo copies the previous revision's ReplicaSet template back (no controllers run here)
    const web = await s.registry.patch<any>("deployments.apps", "default", "web", "merge", {
      metadata: { annotations: { "deployment.kubernetes.io/revision": "2" } },
    });
    const old = deployment("web").spec as any;
    old.template.spec.containers[0].image = "nginx:1.24";
    old.template.metadata.labels["pod-template-hash"] = "abc12";
    await s.registry.create("replicasets.apps", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: "web-abc12",
        namespace: "default",
        annotations: { "deployment.kubernetes.io/revision": "1" },
        ownerReferences: [
          { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: web.metadata.uid, controller: true },
        ],
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "web", "pod-template-hash": "abc12" } },
        template: old.template,
      },
    });
    await page.locator("#count-replicasets\\.apps", { hasText: "1" }).waitFor();
    await page.getByRole("button", { name: "Undo rollout" }).click();
    await waitFor(
      async () =>
        (await s.registry.get<any>("deployments.apps", "default", "web")).spec.template.spec.containers[0]
          .image === "nginx:1.24",
      { what: "the rollback to nginx:1.24" },
    );

    await page.goto(`${s.url}/#/pods/default/doomed`);
    await page.getByRole("button", { name: "Delete pod" }).click();
    await waitFor(async () => !(await s.registry.tryGet("pods", "default", "doomed")), {
      what: "the pod gone",
    });

    await page.goto(`${s.url}/#/nodes/node-a`);
    await page.getByRole("button", { name: "Cordon" }).click();
    await waitFor(
      async () => (await s.registry.get<any>("nodes", "", "node-a")).spec?.unschedulable === true,
      {
        what: "the node cordoned",
      },
    );
    await page.getByRole("button", { name: "Uncordon" }).waitFor();

    const forged = await page.evaluate(async () => {
      const res = await fetch("/api/v1/namespaces/default/pods", {
        method: "POST",
        // the page's session, but not its CSRF token
        headers: {
          "Content-Type": "application/json",
          "X-Minik-Session": localStorage.getItem("minik.session") ?? "",
        },
        body: JSON.stringify({ metadata: { name: "x" }, spec: { containers: [{ name: "c", image: "i" }] } }),
      });
      return res.status;
    });
    expect(forged).toBe(403);
    expect(errors.filter((e) => !/403/.test(e))).toEqual([]);
  }, 30_000);

  test("logout and idle expiry end the session with a login prompt", async () => {
    const { s } = await server({ policy: { idleMs: 3000, lifetimeMs: 60_000 } });
    const { page } = await open(s);
    await page.locator("#login").waitFor({ timeout: 10_000 });
    expect(await page.locator("#login-why").textContent()).toMatch(/ended|expired/);
    expect((await page.request.get(`${s.url}/api/v1/pods`)).status()).toBe(401);

    const { s: other } = await server();
    const { page: second } = await open(other);
    second.on("dialog", (d) => void d.accept());
    await second.getByRole("button", { name: "Log out" }).click();
    await second.locator("#login").waitFor();
    expect(await second.locator("#login-why").textContent()).toContain("logged out");
    expect((await second.request.get(`${other.url}/api/v1/pods`)).status()).toBe(401);
  }, 30_000);

  test("at 360 px nothing overflows, names stay on one line; screenshots of overview, detail and charts", async () => {
    const node = new FakeNodeServices();
    node.logLines.set("default/web/main", ["listening on :8080", "GET / 200"]);
    const { s } = await server({ node });
    await s.registry.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "minik" },
      status: {
        capacity: { cpu: "4", memory: "8029152Ki" },
        conditions: [{ type: "Ready", status: "True" }],
      },
    });
    await s.registry.create("deployments.apps", deployment("frontend-with-a-long-name", 2));
    await s.registry.create("pods", {
      ...pod("web"),
      spec: { nodeName: "minik", containers: [{ name: "main", image: "busybox" }] },
    });
    await s.registry.create("pods", pod("frontend-with-a-long-name-7d9f8c6b5d-x2x9q"));
    mkdirSync(SHOTS, { recursive: true });

    for (const [label, viewport] of [
      ["desktop", { width: 1280, height: 800 }],
      ["phone", { width: 360, height: 740 }],
    ] as const) {
      const { page, errors } = await open(s, viewport);
      await page.locator("tr", { hasText: "frontend-with-a-long-name-7d9f8c6b5d-x2x9q" }).waitFor();
      // two metrics samples make a line
      await page.locator(".chart polyline").first().waitFor({ timeout: 15_000 });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(viewport.width);
      const row = await page.locator("tr", { hasText: "frontend-with-a-long-name-7d9f8c6b5d" }).boundingBox();
      expect(row!.height).toBeLessThan(40);
      for (const box of await page
        .locator("main section")
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right)))
        expect(box).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: join(SHOTS, `overview-${label}.png`), fullPage: true });

      await page.goto(`${s.url}/#/pods/default/web`);
      await page.locator("#logs", { hasText: "listening on :8080" }).waitFor();
      for (const f of node.followers) f.push(`followed line for ${label}`);
      await page.locator("#logs", { hasText: `followed line for ${label}` }).waitFor();
      await page.locator("#pod-charts polyline").first().waitFor({ timeout: 15_000 });
      // the container as the node reads it back: the layer stack, the CFS quota, the namespaces
      await page.locator("#inspect .layer.container").waitFor();
      expect(await page.locator("#inspect").textContent()).toContain(
        "quota of 30000/100000 µs = 30% of one CPU",
      );
      expect(await page.locator("#inspect").textContent()).toContain("Whiteouts: /etc/motd");
      expect(await page.locator("#inspect table").textContent()).toContain("with the pod");
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      );
      await page.screenshot({ path: join(SHOTS, `detail-${label}.png`), fullPage: label === "phone" });
      expect(errors).toEqual([]);
    }
  }, 90_000);
});
