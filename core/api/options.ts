import { ApiError } from "../errors.ts";
import type { DeleteOptions, ListOptions, WriteOptions } from "../seams/client.ts";

/** kube-apiserver's FieldManagerMaxLength. */
const FIELD_MANAGER_MAX = 128;

/**
 * Query parameters shared by the write verbs: dryRun, fieldManager, fieldValidation, force.
 * Without `?fieldManager` the manager is the User-Agent up to its first "/" (`kubectl/v1.32.4 …`
 * → `kubectl`), printable characters only, at most 128 bytes, as kube-apiserver records it.
 */
export function writeOptions(
  url: URL,
  warnings: string[],
  req?: Request,
): WriteOptions & { force?: boolean } {
  const q = url.searchParams;
  const manager = q.get("fieldManager");
  if (manager !== null) checkFieldManager(manager);
  const dryRun = q.getAll("dryRun");
  for (const d of dryRun)
    if (d !== "All") throw new ApiError("BadRequest", `unsupported dryRun "${d}": the only value is "All"`);
  const validation = q.get("fieldValidation") ?? "Warn";
  if (validation !== "Strict" && validation !== "Warn" && validation !== "Ignore") {
    throw new ApiError("BadRequest", `invalid fieldValidation "${validation}": use Strict, Warn or Ignore`);
  }
  const force = q.get("force");
  return {
    dryRun: dryRun.length > 0,
    fieldManager: manager ?? (managerFromUserAgent(req?.headers.get("User-Agent") ?? "") || undefined),
    fieldValidation: validation,
    onWarning: (message) => warnings.push(message),
    ...(force !== null ? { force: queryFlag(force) } : {}),
  };
}

function checkFieldManager(manager: string): void {
  if (new TextEncoder().encode(manager).length > FIELD_MANAGER_MAX)
    throw new ApiError(
      "BadRequest",
      `fieldManager: Too long: may not be more than ${FIELD_MANAGER_MAX} bytes: use a shorter ?fieldManager`,
    );
  if (![...manager].every(isPrintable))
    throw new ApiError(
      "BadRequest",
      `fieldManager: Invalid value: ${JSON.stringify(manager)}: must only contain printable characters`,
    );
}

/** Go's unicode.IsPrint: no control, format or separator characters but the ASCII space. */
function isPrintable(ch: string): boolean {
  return ch === " " || !/[\p{C}\p{Z}]/u.test(ch);
}

/** The User-Agent before its first "/", unprintable characters dropped, cut at 128 bytes. */
export function managerFromUserAgent(userAgent: string): string {
  let out = "";
  let bytes = 0;
  for (const ch of userAgent.split("/")[0]!) {
    if (!isPrintable(ch)) continue;
    const size = new TextEncoder().encode(ch).length;
    if (bytes + size > FIELD_MANAGER_MAX) break;
    out += ch;
    bytes += size;
  }
  return out;
}

export function listOptions(url: URL, namespace: string | undefined): ListOptions {
  const q = url.searchParams;
  return {
    namespace,
    labelSelector: q.get("labelSelector") || undefined,
    fieldSelector: q.get("fieldSelector") || undefined,
  };
}

/** A list's options plus its paging (`limit`, `continue`, `resourceVersion`). */
export function pagedListOptions(url: URL, namespace: string | undefined): ListOptions {
  const q = url.searchParams;
  const limit = q.get("limit");
  if (limit !== null && limit !== "" && !/^-?\d+$/.test(limit))
    throw new ApiError("BadRequest", `invalid limit "${limit}": use a whole number of items, e.g. limit=500`);
  return {
    ...listOptions(url, namespace),
    ...(limit ? { limit: Math.max(0, Math.min(Number(limit), Number.MAX_SAFE_INTEGER)) } : {}),
    ...(q.get("continue") ? { continue: q.get("continue")! } : {}),
    ...(q.get("resourceVersion") ? { resourceVersion: q.get("resourceVersion")! } : {}),
  };
}

/** DeleteOptions from the body (kubectl sends `{"propagationPolicy":"Background"}`) merged over the query. */
export function deleteOptions(url: URL, body: unknown): DeleteOptions {
  const q = url.searchParams;
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const grace =
    b.gracePeriodSeconds ?? (q.has("gracePeriodSeconds") ? Number(q.get("gracePeriodSeconds")) : undefined);
  if (grace !== undefined && (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0)) {
    throw new ApiError(
      "BadRequest",
      `invalid gracePeriodSeconds "${grace}": use a whole number of seconds, 0 or more`,
    );
  }
  const policy = (b.propagationPolicy ?? q.get("propagationPolicy") ?? undefined) as string | undefined;
  if (policy !== undefined && policy !== "Background" && policy !== "Foreground" && policy !== "Orphan") {
    throw new ApiError(
      "BadRequest",
      `invalid propagationPolicy "${policy}": use Background, Foreground or Orphan`,
    );
  }
  const bodyDryRun = Array.isArray(b.dryRun) ? (b.dryRun as string[]) : [];
  const orphan =
    b.orphanDependents ?? (q.has("orphanDependents") ? queryFlag(q.get("orphanDependents")) : undefined);
  return {
    ...(grace !== undefined ? { gracePeriodSeconds: grace as number } : {}),
    ...(policy
      ? { propagationPolicy: policy }
      : orphan === true
        ? { propagationPolicy: "Orphan" as const }
        : {}),
    ...(b.preconditions ? { preconditions: b.preconditions as DeleteOptions["preconditions"] } : {}),
    dryRun: bodyDryRun.includes("All") || q.getAll("dryRun").includes("All"),
  };
}

/**
 * A boolean query parameter as kube-apiserver converts it (apimachinery's
 * Convert_Slice_string_To_bool): absent, "0" or "false" in any case is false; any other value,
 * the empty one included, is true — so the Python client's `watch=True` watches.
 */
export function queryFlag(value: string | null): boolean {
  if (value === null) return false;
  return !(value === "0" || value.toLowerCase() === "false");
}
