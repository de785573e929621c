import type { LabelSelector } from "kubernetes-types/meta/v1";
import { ApiError } from "./errors.ts";
import type { KubeObject } from "./object.ts";

/**
 * Label and field selectors, as the API server parses them from `labelSelector=` and
 * `fieldSelector=` query parameters, plus the structured `LabelSelector` of Deployments and
 * ReplicaSets (matchLabels / matchExpressions) that controllers match pods with.
 */
export type Labels = Record<string, string> | undefined;

export interface Requirement {
  key: string;
  operator: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

/** Matches labels; `matchesAll` is true for the empty selector. */
export interface Selector {
  matches(labels: Labels): boolean;
  readonly requirements: readonly Requirement[];
  readonly matchesAll: boolean;
}

function selectorOf(requirements: Requirement[]): Selector {
  return {
    requirements,
    matchesAll: requirements.length === 0,
    matches: (labels) => requirements.every((r) => requirementMatches(r, labels)),
  };
}

function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = labels != null && Object.hasOwn(labels, r.key);
  const value = has ? labels![r.key]! : undefined;
  switch (r.operator) {
    case "=":
    case "in":
      return has && r.values.includes(value!);
    case "!=":
    case "notin":
      return !has || !r.values.includes(value!);
    case "exists":
      return has;
    case "!":
      return !has;
  }
}

function badSelector(text: string, why: string): ApiError {
  return new ApiError("BadRequest", `unable to parse requirement: ${why} (selector "${text}")`);
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== "");
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(text: string, key: string): string {
  if (!LABEL_KEY.test(key)) throw badSelector(text, `invalid label key "${key}"`);
  return key;
}

function checkValue(text: string, value: string): string {
  if (value.length > 63 || !LABEL_VALUE.test(value))
    throw badSelector(text, `invalid label value: "${value}"`);
  return value;
}

function parseTerm(text: string, term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set) {
    const values = set[3]!
      .split(",")
      .map((v) => v.trim())
      .map((v) => checkValue(text, v));
    return { key: checkKey(text, set[1]!), operator: set[2] as "in" | "notin", values };
  }
  if (term.startsWith("!")) return { key: checkKey(text, term.slice(1).trim()), operator: "!", values: [] };
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (eq) {
    const operator = eq[2] === "!=" ? "!=" : "=";
    return { key: checkKey(text, eq[1]!), operator, values: [checkValue(text, eq[3]!.trim())] };
  }
  if (/^\S+$/.test(term)) return { key: checkKey(text, term), operator: "exists", values: [] };
  throw badSelector(text, `cannot parse "${term}"`);
}

/** Parses `app=web,tier!=db,env in (a,b),!legacy,release`. BadRequest on bad syntax. */
export function parseLabelSelector(text: string | undefined): Selector {
  if (!text?.trim()) return selectorOf([]);
  return selectorOf(splitTerms(text).map((t) => parseTerm(text, t)));
}

/**
 * A structured LabelSelector. Per Kubernetes, a nil selector matches nothing and an empty one
 * (`{}`) matches everything.
 */
export function labelSelectorFromObject(selector: LabelSelector | null | undefined): Selector {
  if (!selector) return { requirements: [], matchesAll: false, matches: () => false };
  const reqs: Requirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, v]) => ({
    key,
    operator: "=",
    values: [v],
  }));
  for (const e of selector.matchExpressions ?? []) {
    const op = e.operator;
    const operator = op === "In" ? "in" : op === "NotIn" ? "notin" : op === "Exists" ? "exists" : "!";
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(op)) {
      throw new ApiError("BadRequest", `"${op}" is not a valid label selector operator`);
    }
    reqs.push({ key: e.key, operator, values: e.values ?? [] });
  }
  return selectorOf(reqs);
}

/** True when `labels` satisfy the structured selector. */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  return labelSelectorFromObject(selector).matches(labels);
}

/**
 * The query-string form (`app=web,env in (a,b)`), as Scale.status.selector and kubectl use it:
 * requirements sorted by key and values sorted, as apimachinery's Selector.String() prints them.
 */
export function labelSelectorToString(selector: LabelSelector | null | undefined): string {
  return [...labelSelectorFromObject(selector).requirements]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => ({ ...r, values: [...r.values].sort() }))
    .map((r) => {
      switch (r.operator) {
        case "=":
        case "!=":
          return `${r.key}${r.operator}${r.values[0]}`;
        case "in":
        case "notin":
          return `${r.key} ${r.operator} (${r.values.join(",")})`;
        case "exists":
          return r.key;
        default:
          return `!${r.key}`;
      }
    })
    .join(",");
}

// ---- field selectors ----

type FieldGetter = (obj: KubeObject) => unknown;

const get =
  (...path: string[]): FieldGetter =>
  (obj) => {
    let cur: unknown = obj;
    for (const p of path) cur = (cur as Record<string, unknown> | undefined)?.[p];
    return cur;
  };

const COMMON: Record<string, FieldGetter> = {
  "metadata.name": get("metadata", "name"),
  "metadata.namespace": get("metadata", "namespace"),
};

/** Fields each resource can be selected by, as kube-apiserver supports them. */
const FIELDS: Record<string, Record<string, FieldGetter>> = {
  pods: {
    "spec.nodeName": get("spec", "nodeName"),
    "spec.restartPolicy": get("spec", "restartPolicy"),
    "spec.schedulerName": get("spec", "schedulerName"),
    "spec.serviceAccountName": get("spec", "serviceAccountName"),
    "spec.hostNetwork": (o) =>
      String(Boolean((o.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork)),
    "status.phase": get("status", "phase"),
    "status.podIP": get("status", "podIP"),
    "status.nominatedNodeName": get("status", "nominatedNodeName"),
  },
  events: {
    "involvedObject.kind": get("involvedObject", "kind"),
    "involvedObject.namespace": get("involvedObject", "namespace"),
    "involvedObject.name": get("involvedObject", "name"),
    "involvedObject.uid": get("involvedObject", "uid"),
    "involvedObject.apiVersion": get("involvedObject", "apiVersion"),
    "involvedObject.resourceVersion": get("involvedObject", "resourceVersion"),
    "involvedObject.fieldPath": get("involvedObject", "fieldPath"),
    reason: get("reason"),
    reportingComponent: get("reportingComponent"),
    source: get("source", "component"),
    type: get("type"),
  },
  namespaces: { "status.phase": get("status", "phase") },
  nodes: {
    "spec.unschedulable": (o) => String(Boolean((o.spec as { unschedulable?: boolean })?.unschedulable)),
  },
  secrets: { type: get("type") },
  "replicasets.apps": {
    "status.replicas": (o) => String((o.status as { replicas?: number })?.replicas ?? 0),
  },
};

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

/** Matches objects; `requirements` lets callers pick out e.g. a `metadata.name` to narrow a read. */
export interface FieldSelector {
  matches(obj: KubeObject): boolean;
  readonly requirements: readonly FieldRequirement[];
  readonly matchesAll: boolean;
}

/** Parses `metadata.name=x,spec.nodeName!=` for `resource`; BadRequest naming an unsupported field. */
export function parseFieldSelector(resource: string, text: string | undefined): FieldSelector {
  const requirements: FieldRequirement[] = [];
  const getters: FieldGetter[] = [];
  for (const term of text ? splitTerms(text) : []) {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m)
      throw new ApiError(
        "BadRequest",
        `invalid field selector: "${term}": expected field=value or field!=value`,
      );
    const field = m[1]!.trim();
    const getter = COMMON[field] ?? FIELDS[resource]?.[field];
    if (!getter) throw new ApiError("BadRequest", `field label not supported: ${field}`);
    requirements.push({
      field,
      operator: m[2] === "!=" ? "!=" : "=",
      value: unescapeFieldValue(m[3]!.trim()),
    });
    getters.push(getter);
  }
  return {
    requirements,
    matchesAll: requirements.length === 0,
    matches: (obj) =>
      requirements.every((r, i) => {
        const raw = getters[i]!(obj);
        const actual = raw === undefined || raw === null ? "" : String(raw);
        return r.operator === "=" ? actual === r.value : actual !== r.value;
      }),
  };
}

function unescapeFieldValue(v: string): string {
  return v.replace(/\\([,=\\])/g, "$1");
}
