import { parse as parseYaml } from "yaml";
import { ApiError } from "../errors.ts";
import type { PatchType } from "../seams/client.ts";
import { checkDecodedBounds } from "./decoded-bounds.ts";
import { decodeProtobufObject } from "./protobuf/decode.ts";

/** Same bound as kube-apiserver's request body limit. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const PATCH_TYPES: Record<string, PatchType> = {
  "application/strategic-merge-patch+json": "strategic",
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/apply-patch+yaml": "apply",
};

/** The media type without parameters, lowercased; "" when absent. */
export function mediaType(req: Request): string {
  return (req.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Reads at most MAX_BODY_BYTES; more is 413 whether announced by Content-Length or not. */
export async function readBytes(req: Request): Promise<Uint8Array> {
  const announced = Number(req.headers.get("Content-Length") ?? "0");
  if (announced > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(): ApiError {
  return new ApiError(
    "RequestEntityTooLarge",
    `request body too large: the limit is ${MAX_BODY_BYTES} bytes`,
  );
}

/**
 * Decodes a request body by its Content-Type: JSON (also when no Content-Type is sent, as
 * kubectl does for `PUT …/scale`), YAML, or Kubernetes protobuf. Anything else is 415.
 */
export async function readBody(req: Request, allowed: "object" | "patch" = "object"): Promise<unknown> {
  const type = mediaType(req);
  const isPatch = type in PATCH_TYPES;
  if (allowed === "patch" ? !isPatch : isPatch || !isObjectType(type)) {
    const expected =
      allowed === "patch" ? Object.keys(PATCH_TYPES).join(", ") : "application/json, application/yaml";
    throw new ApiError(
      "UnsupportedMediaType",
      `the body of the request was in an unknown format "${type}": accepted media types are ${expected}`,
    );
  }
  const bytes = await readBytes(req);
  const decoded = decode(type, bytes);
  checkDecodedBounds(decoded, MAX_BODY_BYTES);
  return decoded;
}

function decode(type: string, bytes: Uint8Array): unknown {
  if (type === "application/vnd.kubernetes.protobuf") return decodeProtobufObject(bytes);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "")
    throw new ApiError("BadRequest", "the request body is empty: send the object as JSON or YAML");
  try {
    if (type === "application/yaml" || type === "application/apply-patch+yaml" || type === "text/yaml") {
      return parseYaml(text);
    }
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(
      "BadRequest",
      `the request body is not valid ${type.includes("yaml") ? "YAML" : "JSON"}: ${(e as Error).message}`,
    );
  }
}

function isObjectType(type: string): boolean {
  return (
    type === "" ||
    type === "application/json" ||
    type === "application/yaml" ||
    type === "text/yaml" ||
    type === "application/vnd.kubernetes.protobuf"
  );
}
