import { ApiError } from "../errors.ts";
import { negotiate, PROTOBUF } from "./negotiation.ts";
import { encodeProtobufObject } from "./protobuf/encode.ts";

/** JSON response with the Kubernetes content type; extra headers (Warning, …) appended. */
export function json(body: unknown, code = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (!h.has("Content-Type")) h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status: code, headers: h });
}

/**
 * Any thrown value as a Kubernetes `Status` response: kubectl prints `message` and branches on
 * `reason`. A client that accepts only protobuf gets the Status message in protobuf.
 */
export function statusResponse(e: unknown, accept?: string | null): Response {
  const err = toApiError(e);
  if (accept && protobufOnly(accept)) {
    const bytes = encodeProtobufObject(err.toStatus());
    if (bytes) return new Response(bytes, { status: err.code, headers: { "Content-Type": PROTOBUF } });
  }
  return json(err.toStatus(), err.code);
}

function protobufOnly(accept: string): boolean {
  try {
    const rep = negotiate(accept);
    return rep.format === "protobuf" && !rep.fallback;
  } catch {
    // nothing servable (the 406 itself): JSON, as upstream answers errors it cannot encode
    return false;
  }
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof Error && e.name === "ApiError" && "toStatus" in e) return e as ApiError;
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError("InternalError", `Internal error occurred: ${message}`);
}

/** The success Status kubectl expects from DELETE and deletecollection when nothing is left to show. */
export function successStatus(details: Record<string, unknown>) {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}

/** Headers carrying each warning as a `Warning` header. */
export function warningHeaders(warnings: string[]): Headers {
  const h = new Headers();
  for (const w of warnings) h.append("Warning", warningHeader(w));
  return h;
}

/** `Warning: 299 - "…"` header values; kubectl prints them as `Warning: …`. */
export function warningHeader(message: string): string {
  // A header value is Latin-1 at most: anything beyond ASCII goes as a \u escape (an unknown
  // field named "ünknown" must not fail the response of a write that has already happened).
  const quoted = JSON.stringify(message).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `299 - ${quoted}`;
}
