/**
 * Image references, normalised like Docker: `nginx:1.7.9` → `docker.io/library/nginx:1.7.9`,
 * default tag `latest`, digests `@sha256:…`. Invalid names throw RuntimeError("InvalidImageName").
 */
import { RuntimeError } from "../../core/seams/container-runtime.ts";

export const DOCKER_HUB = "docker.io";

export interface ImageReference {
  /** Registry host (with port), e.g. `docker.io`, `127.0.0.1:5100`. */
  domain: string;
  /** Repository path on that registry, e.g. `library/nginx`. */
  path: string;
  tag?: string;
  digest?: string;
  /** Normalised full name: `domain/path:tag`, `domain/path@digest` or `domain/path:tag@digest`. */
  name: string;
  /** What to ask the registry for: the digest when there is one, else the tag. */
  reference: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

function invalid(ref: string, why: string): never {
  throw new RuntimeError(
    "InvalidImageName",
    `Failed to apply default image tag "${ref}": couldn't parse image name "${ref}": ${why}`,
  );
}

export function parseImageReference(ref: string): ImageReference {
  const input = ref.trim();
  if (input === "") invalid(ref, "image name is empty");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) invalid(ref, `invalid digest "${digest}" (want sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) invalid(ref, `invalid tag "${tag}"`);
  }
  let domain = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes(".") ||
      first.includes(":") ||
      first === "localhost" ||
      first !== first.toLowerCase()
    ) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(domain)) invalid(ref, `invalid registry host "${domain}"`);
  if (domain === "index.docker.io" || domain === "registry-1.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  if (path === "" || !path.split("/").every((c) => COMPONENT.test(c))) {
    invalid(ref, "repository name must be lowercase letters, digits and separators (. _ __ -)");
  }
  if (path.length + domain.length > 255) invalid(ref, "name is longer than 255 characters");
  if (!tag && !digest) tag = "latest";
  const base = `${domain}/${path}`;
  const name = `${base}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return { domain, path, tag, digest, name, reference: digest ?? tag! };
}

/** `docker.io/library/nginx:1.7.9` → `nginx:1.7.9`, for messages and `minik image ls`. */
export function familiarName(name: string): string {
  let s = name.startsWith(`${DOCKER_HUB}/`) ? name.slice(DOCKER_HUB.length + 1) : name;
  if (s.startsWith("library/") && name.startsWith(DOCKER_HUB)) s = s.slice("library/".length);
  return s;
}
