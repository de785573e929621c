import { ApiError } from "../errors.ts";
import { mediaType, PATCH_TYPES } from "./body.ts";
import { isWebSocketUpgrade } from "./socket.ts";

/**
 * Checks every request gets before routing and authentication: a URL that decodes, and no
 * cross-site request riding on a browser's ambient credentials (the dashboard cookie, or an
 * `--anonymous` loopback listener). A bearer token cannot be attached by a foreign page (that
 * needs a CORS preflight, which this server never grants), so token requests skip the
 * cross-site checks — kubectl and client libraries send no Origin anyway.
 */
export function guardRequest(req: Request, url: URL): void {
  checkPercentEncoding(url);
  if (hasBearerToken(req)) return;
  checkSameOrigin(req, url);
  checkWriteContentType(req);
}

export function hasBearerToken(req: Request): boolean {
  return /^Bearer\s+\S/i.test(req.headers.get("Authorization") ?? "");
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** True for verbs that change state; the cookie-session CSRF token guards these. */
export function isMutating(req: Request): boolean {
  return MUTATING.has(req.method) || isWebSocketUpgrade(req);
}

/** `%zz` in the path or the query is a 400, not an exception deep inside routing. */
function checkPercentEncoding(url: URL): void {
  for (const part of [url.pathname, url.search]) {
    try {
      decodeURIComponent(part.replaceAll("+", " "));
    } catch {
      throw new ApiError(
        "BadRequest",
        `the request URL is not valid percent-encoding: ${part.slice(0, 200)}`,
      );
    }
  }
}

/**
 * A browser names the page that sent a request in `Sec-Fetch-Site` and `Origin`. Anything but
 * this server's own origin (or a user typing the URL: `none`) is refused — `same-site` included,
 * since every port on 127.0.0.1 (a NodePort app too) is the same site.
 */
function checkSameOrigin(req: Request, url: URL): void {
  const site = req.headers.get("Sec-Fetch-Site");
  if (site && site !== "same-origin" && site !== "none") throw crossSite(`Sec-Fetch-Site: ${site}`);
  const origin = req.headers.get("Origin");
  if (origin === null) return;
  const host = req.headers.get("Host") ?? url.host;
  if (origin !== `${url.protocol}//${host}`) throw crossSite(`Origin: ${origin.slice(0, 200)}`);
}

function crossSite(what: string): ApiError {
  return new ApiError(
    "Forbidden",
    `cross-site request refused (${what}): the API accepts browser requests from its own origin only`,
  );
}

/**
 * A write must say what its body is. Without a bearer token a missing or form-like Content-Type
 * (what an HTML form or a no-preflight `fetch` can send) is refused before the body is read.
 */
function checkWriteContentType(req: Request): void {
  if (!MUTATING.has(req.method) || !hasBody(req)) return;
  const type = mediaType(req);
  if (WRITE_TYPES.has(type) || type in PATCH_TYPES) return;
  throw new ApiError(
    "UnsupportedMediaType",
    `a write needs a Content-Type of application/json, application/yaml, a patch type or protobuf, not "${type}"`,
  );
}

const WRITE_TYPES = new Set([
  "application/json",
  "application/yaml",
  "text/yaml",
  "application/vnd.kubernetes.protobuf",
]);

function hasBody(req: Request): boolean {
  const length = req.headers.get("Content-Length");
  if (length !== null) return length.trim() !== "0";
  return req.headers.has("Transfer-Encoding") || req.body !== null;
}
