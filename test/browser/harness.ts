import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { serve } from "../../cmd/serve.ts";
import { createApiServer } from "../../core/api/app.ts";
import { createDashboardApi, dashboardKinds } from "../../core/api/dashboard-api.ts";
import { createSessions, type SessionPolicy } from "../../core/api/dashboard-session.ts";
import { createMinikApi } from "../../core/api/minik-api.ts";
import type { KubeObject } from "../../core/object.ts";
import { createRegistry, type Registry } from "../../core/registry/registry.ts";
import type { NodeServices } from "../../core/seams/node-services.ts";
import { createSqlStore } from "../../core/store/sql-store.ts";
import { createDashboardPage } from "../../web/dashboard-page.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

/** Headless Debian chromium, as the suite drives it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface DashboardServer {
  url: string;
  port: number;
  registry: Registry;
  /** A fresh one-time login link, as `minik dashboard` prints it. */
  loginLink(): Promise<string>;
  stop(): Promise<void>;
}

const TOKEN = "browser-test-token";

/**
 * The API server wired as `minik up` wires it (registry over a file store, signed sessions, the
 * dashboard API and page) but without a node: no root needed. Starting it again on the same data
 * dir and port is a minik restart.
 */
export async function startDashboardServer(
  dataDir: string,
  options: { port?: number; policy?: SessionPolicy; node?: NodeServices } = {},
): Promise<DashboardServer> {
  const store = await createSqlStore({ url: `file:${join(dataDir, "minik.db")}`, compactIntervalMs: 0 });
  const registry = createRegistry(store);
  await registry.bootstrap();
  const sessions = createSessions(TOKEN, options.policy);
  const app = createApiServer({
    client: registry,
    node: options.node,
    auth: { token: TOKEN, sessions },
    routes: [createDashboardApi({ client: registry, sessions }), createMinikApi({ node: options.node })],
    web: createDashboardPage({ list: (key) => registry.list(key), kinds: dashboardKinds() }),
  });
  const server = serve(app, { hostname: "127.0.0.1", port: options.port ?? 0 });
  return {
    url: server.url,
    port: server.port,
    registry,
    async loginLink() {
      const res = await fetch(`${server.url}/minik/v1/login-links`, {
        method: "POST",
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      return new URL((await res.json()).url, server.url).toString();
    },
    async stop() {
      await server.stop();
      await store.close();
    },
  };
}

export function deployment(name: string, replicas = 1): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "web", image: "nginx:1.25" }] },
      },
    },
  };
}

export function pod(name: string, namespace = "default"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { app: "demo" } },
    spec: { containers: [{ name: "main", image: "busybox" }] },
  };
}
