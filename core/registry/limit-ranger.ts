import type { Container, LimitRange, LimitRangeItem, Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { parseQuantity } from "../quantity.ts";
import { amountOf, formatAmount } from "../quota.ts";
import type { Store } from "../store/store.ts";
import { type AdmissionHook, admissionForbidden } from "./admission.ts";

/**
 * LimitRanger, as upstream's admission plugin: on a pod's create, every container gets the
 * namespace's Container `default` limits and `defaultRequest` requests it does not state (noted
 * in the `kubernetes.io/limit-ranger` annotation), then min, max and maxLimitRequestRatio are
 * enforced per Container and per Pod (sums), and min/max of storage per PersistentVolumeClaim.
 * A violation is 403 Forbidden listing every broken rule.
 */
const ANNOTATION = "kubernetes.io/limit-ranger";
type Amounts = Record<string, string>;

export function limitRanger(store: Store): AdmissionHook {
  return async (req) => {
    if (req.operation !== "CREATE" || req.subresource) return;
    if (req.resource !== "pods" && req.resource !== "persistentvolumeclaims") return;
    const namespace = req.object.metadata.namespace;
    if (!namespace) return;
    const ranges = (await store.list("limitranges", namespace)).items as unknown as LimitRange[];
    if (!ranges.length) return;
    const items = ranges.flatMap((r) => r.spec?.limits ?? []);
    const errors = req.resource === "pods" ? admitPod(req.object, items) : admitClaim(req.object, items);
    if (!errors.length) return;
    const why = errors.length === 1 ? errors[0] : `[${errors.join(", ")}]`;
    throw admissionForbidden(req.resource, req.object.metadata.name ?? "", why!);
  };
}

function admitPod(obj: KubeObject, items: readonly LimitRangeItem[]): string[] {
  const pod = obj as unknown as {
    spec?: { containers?: Container[]; initContainers?: Container[] };
  } & KubeObject;
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const notes: string[] = [];
  for (const item of items.filter((i) => i.type === "Container")) {
    for (const c of containers) notes.push(...applyDefaults(c, item));
  }
  if (notes.length) {
    pod.metadata.annotations = {
      ...pod.metadata.annotations,
      [ANNOTATION]: `LimitRanger plugin set: ${notes.join("; ")}`,
    };
  }
  const errors: string[] = [];
  for (const item of items) {
    if (item.type === "Container")
      for (const c of containers)
        errors.push(
          ...check(
            "Container",
            item,
            (c.resources?.requests ?? {}) as Amounts,
            (c.resources?.limits ?? {}) as Amounts,
          ),
        );
    if (item.type === "Pod") {
      const [requests, limits] = podTotals(obj as unknown as Pod);
      errors.push(...check("Pod", item, requests, limits));
    }
  }
  return errors;
}

function admitClaim(obj: KubeObject, items: readonly LimitRangeItem[]): string[] {
  const spec = (obj.spec ?? {}) as { resources?: { requests?: Amounts; limits?: Amounts } };
  return items
    .filter((i) => i.type === "PersistentVolumeClaim")
    .flatMap((item) =>
      check(
        "PersistentVolumeClaim",
        item,
        spec.resources?.requests ?? {},
        spec.resources?.limits ?? {},
        false,
      ),
    );
}

/** Fills what the container leaves out; returns the annotation's notes. */
function applyDefaults(c: Container, item: LimitRangeItem): string[] {
  const holder = c as { resources?: { requests?: Amounts; limits?: Amounts } };
  holder.resources ??= {};
  const resources = holder.resources;
  const set = (field: "requests" | "limits", defaults: Amounts | undefined) => {
    const names: string[] = [];
    for (const [name, q] of Object.entries(defaults ?? {}))
      if (resources[field]?.[name] === undefined) {
        resources[field] = { ...resources[field], [name]: String(q) };
        names.push(name);
      }
    return names.sort();
  };
  const limits = set("limits", item.default as Amounts | undefined);
  const requests = set("requests", item.defaultRequest as Amounts | undefined);
  const notes: string[] = [];
  if (requests.length) notes.push(`${requests.join(", ")} request for container ${c.name}`);
  if (limits.length) notes.push(`${limits.join(", ")} limit for container ${c.name}`);
  return notes;
}

function check(
  type: string,
  item: LimitRangeItem,
  requests: Amounts,
  limits: Amounts,
  withRatio = true,
): string[] {
  const errors: string[] = [];
  const amount = (name: string, q: string | undefined) => (q === undefined ? undefined : amountOf(name, q));
  for (const [name, q] of Object.entries((item.min ?? {}) as Amounts)) {
    const [min, req, lim] = [amountOf(name, q), amount(name, requests[name]), amount(name, limits[name])];
    if (req === undefined) errors.push(`minimum ${name} usage per ${type} is ${q}.  No request is specified`);
    else if (req < min)
      errors.push(`minimum ${name} usage per ${type} is ${q}, but request is ${requests[name]}`);
    else if (lim !== undefined && lim < min)
      errors.push(`minimum ${name} usage per ${type} is ${q}, but limit is ${limits[name]}`);
  }
  for (const [name, q] of Object.entries((item.max ?? {}) as Amounts)) {
    const [max, req, lim] = [amountOf(name, q), amount(name, requests[name]), amount(name, limits[name])];
    if (lim === undefined && type !== "PersistentVolumeClaim")
      errors.push(`maximum ${name} usage per ${type} is ${q}.  No limit is specified`);
    else if (lim !== undefined && lim > max)
      errors.push(`maximum ${name} usage per ${type} is ${q}, but limit is ${limits[name]}`);
    else if (req !== undefined && req > max)
      errors.push(`maximum ${name} usage per ${type} is ${q}, but request is ${requests[name]}`);
  }
  if (!withRatio) return errors;
  for (const [name, q] of Object.entries((item.maxLimitRequestRatio ?? {}) as Amounts)) {
    const [req, lim] = [amount(name, requests[name]), amount(name, limits[name])];
    if (!req)
      errors.push(
        `${name} max limit to request ratio per ${type} is ${q}, but no request is specified or request is 0`,
      );
    else if (!lim)
      errors.push(
        `${name} max limit to request ratio per ${type} is ${q}, but no limit is specified or limit is 0`,
      );
    else if (lim / req > parseQuantity(q))
      errors.push(
        `${name} max limit to request ratio per ${type} is ${q}, but provided ratio is ${(lim / req).toFixed(6)}`,
      );
  }
  return errors;
}

/** A pod's requests and limits summed over its containers, as strings in base units. */
function podTotals(pod: Pod): [Amounts, Amounts] {
  const sum = (field: "requests" | "limits") => {
    const out: Record<string, number> = {};
    for (const c of pod.spec?.containers ?? [])
      for (const [name, q] of Object.entries((c.resources?.[field] ?? {}) as Amounts))
        out[name] = (out[name] ?? 0) + amountOf(name, q);
    // as quantities again (2Gi, 1500m), for amountOf and for the message
    return Object.fromEntries(Object.entries(out).map(([n, v]) => [n, formatAmount(n, v)]));
  };
  return [sum("requests"), sum("limits")];
}
