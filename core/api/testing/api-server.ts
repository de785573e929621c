/**
 * One API server over a fresh in-memory store per test, for API tests: `const api = useApiServer()`
 * at the top of a test file, then `api.call(path, init)` (authorised, JSON by default). Test-only
 * module (imports bun:test).
 */
import { afterEach, beforeEach } from "bun:test";
import { createRegistry, type Registry } from "../../registry/registry.ts";
import { createSqlStore } from "../../store/sql-store.ts";
import type { Store } from "../../store/store.ts";
import { createApiServer } from "../app.ts";

export interface TestApi {
  store: Store;
  client: Registry;
  app: ReturnType<typeof createApiServer>;
  call(path: string, init?: RequestInit): Promise<Response>;
}

export function useApiServer(options: { changeLogLimit?: number } = {}): TestApi {
  const api = {
    call(path: string, init: RequestInit = {}) {
      return api.app.request(path, {
        ...init,
        headers: {
          Authorization: "Bearer t",
          "Content-Type": "application/json",
          ...(init.headers as object),
        },
      });
    },
  } as TestApi;
  beforeEach(async () => {
    api.store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0, ...options });
    api.client = createRegistry(api.store);
    await api.client.bootstrap();
    api.app = createApiServer({ client: api.client, auth: { token: "t" }, bookmarkIntervalMs: 60_000 });
  });
  afterEach(async () => {
    await api.store.close();
  });
  return api;
}
