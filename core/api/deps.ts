import type { Hono } from "hono";
import type { Authorizer } from "../auth/rbac-authorizer.ts";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import type { UserInfo } from "../auth/user.ts";
import type { Registry } from "../registry/registry.ts";
import type { Client } from "../seams/client.ts";
import type { NodeServices } from "../seams/node-services.ts";
import type { AuthConfig } from "./auth.ts";
import type { ServerEnv } from "./socket.ts";

/** The Client plus the registry's scale, eviction and raw-list helpers (createRegistry returns all of it). */
export type ApiClient = Client &
  Pick<Registry, "getScale" | "updateScale" | "evict"> &
  Partial<Pick<Registry, "listJson">>;

export interface ApiServerDeps {
  client: ApiClient;
  /** Logs, exec, port-forward and stats; without it those subresources answer 503. */
  node?: NodeServices;
  auth: AuthConfig;
  /** Decides every request (default: RBAC over `client`; system:masters may do anything). */
  authorizer?: Authorizer;
  /** Issues and checks service-account tokens (TokenRequest, TokenReview); without it those answer 503. */
  tokens?: ServiceAccountTokens;
  /** More apps served behind the same auth, before `web` (e.g. createMinikApi's /minik/v1/images). */
  routes?: Hono<any>[];
  /** The status page, mounted at "/". */
  web?: Hono<any>;
  /** OpenAPI component schemas for `kubectl explain`; default: the registry's (core/validation/openapi). */
  schemas?: Record<string, Record<string, unknown>>;
  /** One line per request (`GET /api/v1/pods 200 3ms`), for `minik up --debug`. */
  log?: (line: string) => void;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK (default 30 s). */
  bookmarkIntervalMs?: number;
}

export type AppEnv = { Bindings: ServerEnv; Variables: { user?: UserInfo } };
