import { Hono } from "hono";
import { type Authorizer, createRbacAuthorizer } from "../auth/rbac-authorizer.ts";
import { ANONYMOUS_USER, type UserInfo } from "../auth/user.ts";
import { ApiError } from "../errors.ts";
import { withDeprecatedSchemas } from "../validation/openapi/deprecated-schemas.ts";
import { OPENAPI_SCHEMAS } from "../validation/openapi/schemas.ts";
import { VERSION } from "../version.ts";
import { createAccessCheck } from "./access.ts";
import { createAuthenticator, FIRST_PAINT_COOKIE } from "./auth.ts";
import { createServed, handleCustom } from "./custom-resources.ts";
import { DEPRECATED_RESOURCES, handleDeprecated, parseDeprecatedTarget } from "./deprecated-rest.ts";
import type { ApiServerDeps, AppEnv } from "./deps.ts";
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  type ExtraResource,
  legacyApiVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  METRICS_RESOURCES,
  wantsAggregated,
} from "./discovery.ts";
import { EVENTS_V1_RESOURCES, handleEventsV1, parseEventsV1Target } from "./events-v1.ts";
import { handleExec } from "./exec.ts";
import { HPA_V1_RESOURCES, handleHpaV1, parseHpaV1Target } from "./hpa-v1.ts";
import { legacyWatchPath } from "./legacy-watch.ts";
import { handleLogs } from "./logs.ts";
import { handleMetrics } from "./metrics.ts";
import { openApiV2Response } from "./openapi-v2.ts";
import { handlePortForward } from "./port-forward.ts";
import { handleProxy } from "./proxy.ts";
import { guardRequest, isMutating } from "./request-guard.ts";
import { json, statusResponse } from "./respond.ts";
import { handleResource, methodNotAllowed } from "./rest.ts";
import { handleReview, REVIEW_RESOURCES } from "./reviews.ts";
import { handleBinding, handleEviction, handleScale, handleStatus } from "./subresources.ts";
import { parseTarget, type Target } from "./target.ts";
import { handleTokenRequest } from "./token-request.ts";

export type { ApiServerDeps } from "./deps.ts";
export type { AttachCapable } from "./exec.ts";
export type { ServerEnv, Socket, SocketHandler } from "./socket.ts";
export { createSelfSignedCertificate, type TlsCertificate } from "./tls-certificate.ts";

const PUBLIC_PATHS = new Set(["/version", "/version/", "/healthz", "/readyz", "/livez", "/login"]);

/**
 * The Kubernetes API as kubectl 1.32 (and client libraries) speak it: /version and probes, token
 * or cookie auth, aggregated and legacy discovery, OpenAPI v3 (fieldValidation-capable PATCH per
 * kind, schemas for `kubectl explain`), REST verbs with server-side Tables and watches,
 * subresources (status, scale, eviction, log, exec, attach, portforward), protobuf request
 * bodies, metrics.k8s.io and access reviews. Every error is a `Status`.
 *
 * Runtime-neutral: serve it with cmd/serve.ts (cmd/platform: Bun or Deno), which passes `ServerEnv` (loopback flag and
 * the WebSocket upgrade) as the hono env of each request.
 */
export function createApiServer(deps: ApiServerDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = createAuthenticator(deps.auth);
  const authorizer = deps.authorizer ?? createRbacAuthorizer(deps.client);
  const access = createAccessCheck(auth, authorizer, deps.client);
  const extra: ExtraResource[] = [
    ...REVIEW_RESOURCES,
    ...(deps.node ? METRICS_RESOURCES : []),
    ...DEPRECATED_RESOURCES,
    ...HPA_V1_RESOURCES,
    ...EVENTS_V1_RESOURCES,
  ];
  const served = createServed(deps.client, extra, withDeprecatedSchemas(deps.schemas ?? OPENAPI_SCHEMAS));

  app.onError((e, c) => statusResponse(e, c.req.header("Accept")));
  app.notFound(() =>
    statusResponse(new ApiError("NotFound", "the server could not find the requested resource")),
  );

  if (deps.log) {
    const log = deps.log;
    app.use("*", async (c, next) => {
      const started = performance.now();
      await next();
      const url = new URL(c.req.url);
      log(
        `${c.req.method} ${url.pathname}${url.search} ${c.res.status} ${Math.round(performance.now() - started)}ms`,
      );
    });
  }

  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    guardRequest(c.req.raw, url);
    const path = url.pathname;
    if (
      !PUBLIC_PATHS.has(path) &&
      !path.startsWith("/healthz/") &&
      !path.startsWith("/readyz/") &&
      !path.startsWith("/livez/")
    ) {
      try {
        c.set("user", await access(c.req.raw, c.env?.loopback === true, isMutating(c.req.raw)));
      } catch (e) {
        // A reload of the page carries no session (the page holds it): it gets the page without
        // rows, and its script goes on with the session it kept.
        if (
          !(
            path === "/" &&
            c.req.method === "GET" &&
            deps.web &&
            e instanceof ApiError &&
            e.reason === "Unauthorized"
          )
        )
          throw e;
        c.set("anonymousPage" as never, true as never);
      }
    }
    await next();
    // the first-paint code is spent: the browser drops it too
    if (path === "/" && c.res.ok)
      c.res.headers.append(
        "Set-Cookie",
        `${FIRST_PAINT_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
      );
  });

  app.get("/version", () => json(VERSION));
  // the Python client's VersionApi asks for /version/
  app.get("/version/", () => json(VERSION));
  for (const probe of ["/healthz", "/readyz", "/livez"]) {
    app.get(probe, () => new Response("ok", { headers: { "Content-Type": "text/plain" } }));
    app.get(`${probe}/*`, () => new Response("ok", { headers: { "Content-Type": "text/plain" } }));
  }

  app.post("/minik/v1/login-links", () =>
    json({ kind: "LoginLink", apiVersion: "minik/v1", url: `/login?code=${auth.mintCode()}` }, 201),
  );
  app.get("/login", (c) => {
    const login = auth.redeem(c.req.query("code") ?? "", new URL(c.req.url).protocol === "https:");
    if (!login)
      throw new ApiError(
        "Unauthorized",
        "this login link is unknown, used or expired: run `minik dashboard` for a new one",
      );
    // the session goes to the page in the fragment: no server (nor Referer) ever sees it (auth.ts)
    const headers = new Headers({
      Location: `/#minik-session=${login.session}`,
      "Cache-Control": "no-store",
    });
    for (const cookie of login.cookies) headers.append("Set-Cookie", cookie);
    return new Response(null, { status: 302, headers });
  });

  app.all("/api", (c) => {
    onlyGet(c.req.raw);
    if (wantsAggregated(c.req.header("Accept") ?? null)) {
      return json(aggregatedDiscovery(true, extra), 200, { "Content-Type": AGGREGATED_CONTENT_TYPE });
    }
    return json(legacyApiVersions());
  });
  app.all("/apis", async (c) => {
    onlyGet(c.req.raw);
    if (wantsAggregated(c.req.header("Accept") ?? null)) {
      const all = await served.resources();
      return json(aggregatedDiscovery(false, all), 200, { "Content-Type": AGGREGATED_CONTENT_TYPE });
    }
    return json(legacyGroupList(await served.resources()));
  });
  app.all("/api/:version", (c) => {
    onlyGet(c.req.raw);
    const list = legacyResourceList("", c.req.param("version"), extra);
    if (!list)
      throw new ApiError(
        "NotFound",
        `the server could not find the requested resource: /api/${c.req.param("version")}`,
      );
    return json(list);
  });
  app.all("/apis/:group", async (c) => {
    onlyGet(c.req.raw);
    const group = legacyGroup(c.req.param("group"), await served.resources());
    if (!group)
      throw new ApiError(
        "NotFound",
        `the server could not find the requested resource: API group ${c.req.param("group")}`,
      );
    return json(group);
  });
  app.all("/apis/:group/:version", async (c) => {
    onlyGet(c.req.raw);
    const list = legacyResourceList(c.req.param("group"), c.req.param("version"), await served.resources());
    if (!list)
      throw new ApiError(
        "NotFound",
        `the server could not find the requested resource: ${c.req.param("group")}/${c.req.param("version")}`,
      );
    return json(list);
  });

  app.get("/openapi/v2", async (c) => openApiV2Response(c.req.header("Accept"), (await served.openapi()).v2));
  app.get("/openapi/v3", async () => json(await (await served.openapi()).v3.index()));
  app.get("/openapi/v3/*", async (c) => {
    const path = new URL(c.req.url).pathname.slice("/openapi/v3/".length);
    const doc = await (await served.openapi()).v3.document(path);
    if (!doc) throw new ApiError("NotFound", `no OpenAPI document for ${path}`);
    return new Response(doc.body, {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": "public, immutable",
        ETag: `"${doc.hash}"`,
      },
    });
  });

  const resources = async (c: {
    req: { raw: Request; url: string };
    env: AppEnv["Bindings"];
    get(key: "user"): UserInfo | undefined;
  }) => {
    const req = c.req.raw;
    const url = new URL(c.req.url);
    const watchPath = legacyWatchPath(url.pathname);
    if (watchPath) {
      url.pathname = watchPath;
      url.searchParams.set("watch", "true");
    }
    const eventsV1 = parseEventsV1Target(url.pathname);
    if (eventsV1) return handleEventsV1(req, url, eventsV1, deps);
    const v1Hpa = parseHpaV1Target(url.pathname);
    if (v1Hpa) return handleHpaV1(req, url, v1Hpa, deps);
    const deprecated = parseDeprecatedTarget(url.pathname);
    if (deprecated) return handleDeprecated(req, url, deprecated, deps);
    const target = parseTarget(url.pathname, extra);
    const user = c.get("user") ?? ANONYMOUS_USER;
    if (target) return dispatch(req, url, target, deps, c.env ?? {}, user, authorizer);
    const custom = await served.route(url.pathname);
    if (!custom) throw new ApiError("NotFound", "the server could not find the requested resource");
    return handleCustom(url, custom, (t) => dispatch(req, url, t, deps, c.env ?? {}, user, authorizer));
  };
  app.all("/api/*", resources);
  app.all("/apis/*", resources);

  for (const routes of deps.routes ?? []) app.route("/", routes);
  if (deps.web) app.route("/", deps.web);
  return app;
}

function onlyGet(req: Request): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    throw new ApiError(
      "MethodNotAllowed",
      `the server does not allow this method on the requested resource: ${req.method}`,
    );
  }
}

async function dispatch(
  req: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
  env: AppEnv["Bindings"],
  user: UserInfo,
  authorizer: Authorizer,
): Promise<Response> {
  if (t.info.group === "metrics.k8s.io") return handleMetrics(req, t, deps);
  if (t.info.group === "authorization.k8s.io" || t.info.group === "authentication.k8s.io")
    return handleReview(req, t, user, authorizer, deps);
  if (!t.subresource) return handleResource(req, url, t, deps);
  // pods/proxy is served though core/resources.ts does not list it (discovery does not need it)
  const podProxy = t.subresource === "proxy" && t.info.plural === "pods";
  if (!t.info.subresources.includes(t.subresource) && !podProxy) {
    throw new ApiError("NotFound", `${t.resource} has no subresource "${t.subresource}"`);
  }
  switch (t.subresource) {
    case "status":
      return handleStatus(req, url, t, deps);
    case "scale":
      return handleScale(req, url, t, deps);
    case "eviction":
      return handleEviction(req, url, t, deps);
    case "binding":
      return handleBinding(req, url, t, deps);
    case "log":
      return handleLogs(req, url, t, deps);
    case "exec":
    case "attach":
      return handleExec(req, url, t, deps, env);
    case "portforward":
      return handlePortForward(req, url, t, deps, env);
    case "proxy":
      return handleProxy(req, url, t, deps);
    case "token":
      return handleTokenRequest(req, t, deps);
    default:
      throw methodNotAllowed(req.method, t);
  }
}
