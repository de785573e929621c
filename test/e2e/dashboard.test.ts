import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { hasChromium, launchChromium } from "../browser/harness.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: dash-web}
spec:
  replicas: 2
  selector: {matchLabels: {app: dash-web}}
  template:
    metadata: {labels: {app: dash-web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
`;

/**
 * The dashboard through the compiled binary: `minik dashboard`'s one-time link logs a browser in,
 * the page is live, an applied Deployment and its pods appear, and the session survives a restart.
 */
describe.skipIf(!existsSync(BINARY) || !hasChromium)("compiled binary: dashboard", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "minik-e2e-dashboard-"));
  let d: Daemon | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await d?.stop();
    removeDir(dataDir);
  });

  test("minik dashboard → login → live rows → still logged in after a restart", async () => {
    d = await startDaemon(["--runtime", "none"], dataDir);
    const link = await d.minik(["dashboard"]);
    expect(link.code).toBe(0);
    expect(link.stdout.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?code=[0-9a-f]+$/);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(link.stdout.trim());
    await page.locator("#conn", { hasText: /^live$/ }).waitFor({ timeout: 10_000 });
    await d.apply("dash-web", DEPLOYMENT);
    await page.locator("#rows-deployments\\.apps tr", { hasText: "dash-web" }).waitFor({ timeout: 10_000 });
    await page.locator("#rows-pods tr", { hasText: "dash-web-" }).nth(1).waitFor({ timeout: 10_000 });

    const port = Number(new URL(d.url).port);
    await d.stop();
    d = await startDaemon(["--runtime", "none"], dataDir, port);
    // the page kept its signed session in this origin's storage: it holds across the restart
    await page.goto(d.url);
    await page.locator("#conn", { hasText: /^live$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#login").isHidden()).toBe(true);
    expect(await page.locator("#rows-deployments\\.apps tr", { hasText: "dash-web" }).count()).toBe(1);
    expect(errors).toEqual([]);
  }, 60_000);
});
