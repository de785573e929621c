import { afterEach, beforeEach } from "bun:test";
import { ApiError } from "../../errors.ts";
import type { KubeObject } from "../../object.ts";
import { createSqlStore } from "../../store/sql-store.ts";
import type { Store } from "../../store/store.ts";
import { createRegistry, type Registry, type RegistryOptions } from "../registry.ts";

/** Test-only: a fresh in-memory SqlStore + bootstrapped registry per test. */
export function useRegistry(options: RegistryOptions = {}) {
  const fixture = {
    store: undefined as unknown as Store,
    registry: undefined as unknown as Registry,
    warnings: [] as string[],
  };
  beforeEach(async () => {
    fixture.store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
    fixture.warnings = [];
    fixture.registry = createRegistry(fixture.store, {
      onWarning: (m) => fixture.warnings.push(m),
      ...options,
    });
    await fixture.registry.bootstrap();
  });
  afterEach(async () => {
    await fixture.store.close();
  });
  return fixture;
}

export function deploymentManifest(name: string, labels: Record<string, string> = { app: name }): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

export function podManifest(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "p" } },
    spec: { containers: [{ name: "c", image: "busybox" }], ...extra },
  };
}

/** `<code> <reason>: <message>` of the ApiError a call fails with, or "no error". */
export async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "no error";
  } catch (e) {
    return e instanceof ApiError ? `${e.code} ${e.reason}: ${e.message}` : String(e);
  }
}

export async function errorOf(p: Promise<unknown>): Promise<{
  code: number;
  reason: string;
  message: string;
  details?: { causes?: Array<{ field?: string; reason?: string; message?: string }> };
}> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error("expected an error");
}
