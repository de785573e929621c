import { stringify as toYaml } from "yaml";
import type { Client } from "../../seams/client.ts";
import { decodeProtobufObject } from "../protobuf/decode.ts";

/**
 * A seeded generator of hostile and careless requests for the API (malformed URLs, bodies of the
 * wrong shape, types and size, odd media types, cross-site headers, bad watch parameters) and a
 * runner that sends them to an in-process server and collects every answer that breaks the
 * rules: a 5xx, an error that is not a Kubernetes Status, or an object stored although the
 * answer was an error. Used by fuzz.test.ts (bounded) and scripts/fuzz.ts (`bun run fuzz`).
 */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The object a successful write would store, to check nothing was stored on an error. */
  creates?: { resource: string; namespace: string; name: string };
}

export interface FuzzFinding {
  request: FuzzRequest;
  status: number;
  body: string;
  problem: string;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<number, number>;
  findings: FuzzFinding[];
}

type Send = (req: FuzzRequest) => Response | Promise<Response>;

/** mulberry32: small, fast, reproducible from one seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = [
  {
    resource: "configmaps",
    path: "/api/v1/namespaces/default/configmaps",
    kind: "ConfigMap",
    apiVersion: "v1",
  },
  { resource: "secrets", path: "/api/v1/namespaces/default/secrets", kind: "Secret", apiVersion: "v1" },
  { resource: "pods", path: "/api/v1/namespaces/default/pods", kind: "Pod", apiVersion: "v1" },
  { resource: "services", path: "/api/v1/namespaces/default/services", kind: "Service", apiVersion: "v1" },
  { resource: "namespaces", path: "/api/v1/namespaces", kind: "Namespace", apiVersion: "v1" },
  {
    resource: "deployments.apps",
    path: "/apis/apps/v1/namespaces/default/deployments",
    kind: "Deployment",
    apiVersion: "apps/v1",
  },
  {
    resource: "replicasets.apps",
    path: "/apis/apps/v1/namespaces/default/replicasets",
    kind: "ReplicaSet",
    apiVersion: "apps/v1",
  },
] as const;

const podSpec = () => ({
  containers: [
    {
      name: "app",
      image: "nginx:1.27",
      ports: [{ containerPort: 80, protocol: "TCP" }],
      env: [{ name: "A", value: "b" }],
      resources: { requests: { cpu: "10m", memory: "16Mi" } },
    },
  ],
});

function validObject(kind: (typeof KINDS)[number]["kind"], name: string): Record<string, unknown> {
  const metadata = {
    name,
    labels: { app: "fuzz" },
    annotations: { note: "x" },
    finalizers: ["example.com/f"],
  };
  switch (kind) {
    case "ConfigMap":
      return { metadata, data: { key: "value" } };
    case "Secret":
      return { metadata, data: { key: "dmFsdWU=" }, type: "Opaque" };
    case "Pod":
      return { metadata, spec: podSpec() };
    case "Service":
      return { metadata, spec: { selector: { app: "fuzz" }, ports: [{ port: 80, targetPort: 8080 }] } };
    case "Namespace":
      return { metadata: { name } };
    default:
      return {
        metadata,
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: "fuzz" } },
          template: { metadata: { labels: { app: "fuzz" } }, spec: podSpec() },
        },
      };
  }
}

/** Generates requests from one seed; the same seed gives the same requests. */
export function createFuzzer(seed: number) {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  let serial = 0;

  const junkStrings = [
    "",
    "%",
    "%zz",
    "%E0%A4%A",
    "ünknown",
    "名前",
    "😀",
    "a".repeat(300),
    "../../etc/passwd",
    "<script>",
    "\u0000",
    "\ud800",
    "-",
    "UPPER",
    "a/b",
    " ",
  ];
  const randomScalar = (): unknown =>
    pick<() => unknown>([
      () => pick(junkStrings),
      () => int(10) - 5,
      () => 2 ** 31,
      () => 2 ** 53 + 2,
      () => 1e308,
      () => -1e308,
      () => 0.5,
      () => true,
      () => null,
      () => [],
      () => ({}),
      () => [pick(junkStrings), 1, null],
      () => ({ [pick(junkStrings)]: pick(junkStrings) }),
      () => deep(50 + int(1500)),
    ])();
  const deep = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = rnd() < 0.5 ? [v] : { a: v };
    return v;
  };

  /** Replaces, deletes or adds one value somewhere in the object. */
  const mutate = (obj: Record<string, unknown>): void => {
    const path: Array<[Record<string, unknown> | unknown[], string | number]> = [];
    let at: unknown = obj;
    for (let depth = 0; depth < 6 && at && typeof at === "object"; depth++) {
      const keys = Array.isArray(at) ? at.map((_, i) => i) : Object.keys(at);
      if (!keys.length || rnd() < 0.25) break;
      const k = pick<string | number>(keys);
      path.push([at as Record<string, unknown>, k]);
      at = (at as Record<string | number, unknown>)[k];
    }
    const last = path.at(-1);
    if (!last) return;
    const [parent, key] = last;
    const roll = rnd();
    if (roll < 0.7) (parent as Record<string | number, unknown>)[key] = randomScalar();
    else if (roll < 0.85 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else if (!Array.isArray(parent))
      (parent as Record<string, unknown>)[pick(junkStrings) || "x"] = randomScalar();
  };

  const writeTypes = [
    "application/json",
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/vnd.kubernetes.protobuf",
    "application/json; charset=ünknown",
  ];

  const aliasBomb = (): string => {
    const big = "x".repeat(200_000);
    return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb-${serial}\ndata:\n  a: &a ${big}\n${Array.from({ length: 40 }, (_, i) => `  b${i}: *a`).join("\n")}\n`;
  };

  function urlFor(base: string, name?: string): string {
    let path = name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
    const roll = rnd();
    if (roll < 0.08) path = path.replace("default", pick(["%zz", "%", "ünknown", "a%2Fb", "%00", "..", ""]));
    else if (roll < 0.12)
      path += pick(["/status", "/scale", "/log", "/exec", "/eviction", "/nope", "/%zz", "/x/y/z"]);
    const query: string[] = [];
    if (rnd() < 0.3)
      query.push(
        pick([
          "fieldValidation=Strict",
          "fieldValidation=Bogus",
          "dryRun=All",
          "dryRun=Some",
          "fieldManager=fuzz",
          "labelSelector=%zz",
          "labelSelector=a%20in%20(",
          "fieldSelector=metadata.name%3D%3D",
          "fieldSelector=spec.nope=1",
          "gracePeriodSeconds=-1",
          "gracePeriodSeconds=abc",
          "propagationPolicy=Sideways",
          "limit=-5",
          "continue=%zz",
          "resourceVersion=abc",
          "resourceVersionMatch=Weird",
          "%zz=1",
          "a=%",
        ]),
      );
    return query.length ? `${path}?${query.join("&")}` : path;
  }

  function headersFor(type: string): Record<string, string> {
    const h: Record<string, string> = {};
    if (type) h["Content-Type"] = type;
    const roll = rnd();
    if (roll < 0.05) h.Accept = "application/json;as=Table;v=v1;g=meta.k8s.io";
    else if (roll < 0.08) h.Accept = "application/vnd.kubernetes.protobuf";
    else if (roll < 0.1) h.Accept = "ü/ü";
    if (rnd() < 0.05) h.Origin = pick(["https://evil.example", "null", "http://127.0.0.1:30080"]);
    if (rnd() < 0.05) h["Sec-Fetch-Site"] = pick(["cross-site", "same-site", "same-origin", "none"]);
    return h;
  }

  return function next(): FuzzRequest {
    serial++;
    const kind = pick(KINDS);
    const name = `fz-${seed}-${serial}`;
    const roll = rnd();
    if (roll < 0.1) {
      // reads and watches with odd parameters
      const watch = pick([
        "watch=1&timeoutSeconds=abc",
        "watch=1&timeoutSeconds=-1",
        "watch=1&timeoutSeconds=1e9",
        "watch=1&timeoutSeconds=0.5",
        "watch=true&resourceVersion=abc",
        "watch=1&resourceVersion=999999999",
        "watch=1&timeoutSeconds=1",
        "watch=1&allowWatchBookmarks=true&timeoutSeconds=1",
        "limit=1",
        "labelSelector=app%3Dfuzz",
      ]);
      return { method: "GET", path: `${kind.path}?${watch}`, headers: headersFor("") };
    }
    if (roll < 0.14) {
      return {
        method: pick(["GET", "HEAD", "OPTIONS", "PROPFIND", "DELETE"]),
        path: pick([
          "/",
          "/api",
          "/apis",
          "/api/v1/%zz",
          "/apis/%zz/v1",
          "/openapi/v3/%zz",
          "/openapi/v3/apis/apps/v1",
          "/api/v1/namespaces/default/pods/x/proxy/%zz",
          "/minik/v1/dashboard/session",
          "/minik/v1/%zz",
          `/api/v1/${"a/".repeat(200)}`,
          "//api//v1//pods",
          "/api/v1/pods?watch=1&timeoutSeconds=%zz",
        ]),
        headers: headersFor(""),
      };
    }
    if (roll < 0.16) {
      return {
        method: "POST",
        path: KINDS[0].path,
        headers: headersFor("application/yaml"),
        body: aliasBomb(),
        creates: { resource: "configmaps", namespace: "default", name: `bomb-${serial}` },
      };
    }
    const obj: Record<string, unknown> = {
      apiVersion: kind.apiVersion,
      kind: kind.kind,
      ...validObject(kind.kind, name),
    };
    const mutations = 1 + int(3);
    for (let i = 0; i < mutations; i++) mutate(obj);
    if (rnd() < 0.1) obj[pick(["ünknown", "名前", "spec2", "😀"])] = randomScalar();
    if (rnd() < 0.05) obj.metadata = randomScalar();
    const method = pick(["POST", "POST", "POST", "PUT", "PATCH", "DELETE"]);
    const type =
      method === "PATCH" ? pick(writeTypes.slice(3)) : rnd() < 0.6 ? "application/json" : pick(writeTypes);
    let body: string;
    if (rnd() < 0.06)
      body = pick(["{", "[1,2", "null", '"x"', "42", "---\n- a\n: b", "\u0000", '{"a":1}{"b":2}']);
    // block YAML of a deeply nested value grows with the square of its depth: JSON is YAML too
    else if (type.includes("yaml"))
      body = JSON.stringify(obj).length < 4_000 ? toYaml(obj) : JSON.stringify(obj);
    else if (type === "application/json-patch+json")
      body = JSON.stringify([
        {
          op: pick(["add", "replace", "remove", "move", "nope"]),
          path: pick(["/spec", "/metadata/name", "/x/y", "", "~"]),
          value: randomScalar(),
        },
      ]);
    else body = JSON.stringify(obj);
    const named = method !== "POST";
    const creates =
      method === "POST" && typeof (obj.metadata as { name?: unknown })?.name === "string"
        ? {
            resource: kind.resource,
            namespace: kind.resource === "namespaces" ? "" : "default",
            name: (obj.metadata as { name: string }).name,
          }
        : undefined;
    return {
      method,
      path: urlFor(kind.path, named ? name : undefined),
      headers: headersFor(type),
      body: method === "DELETE" && rnd() < 0.5 ? undefined : body,
      creates,
    };
  };
}

/**
 * Sends `count` generated requests (or until `deadline`) and checks each answer: below 500,
 * errors as a `Status`, and no object stored by a write that answered with an error.
 */
export async function runFuzz(options: {
  seed: number;
  count: number;
  send: Send;
  client: Client;
  deadlineMs?: number;
}): Promise<FuzzReport> {
  const next = createFuzzer(options.seed);
  const report: FuzzReport = { sent: 0, byStatus: {}, findings: [] };
  const stopAt = options.deadlineMs ? performance.now() + options.deadlineMs : Number.POSITIVE_INFINITY;
  for (let i = 0; i < options.count && performance.now() < stopAt; i++) {
    const request = next();
    const res = await options.send(request);
    report.sent++;
    report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
    const streaming = request.path.includes("watch=") && res.status === 200;
    let body = "";
    let bytes = new Uint8Array();
    if (streaming) await res.body?.cancel();
    else bytes = new Uint8Array(await res.arrayBuffer());
    body = new TextDecoder().decode(bytes);
    const finding = (problem: string) =>
      report.findings.push({ request, status: res.status, body: body.slice(0, 500), problem });
    if (res.status >= 500) finding("5xx");
    else if (res.status >= 400 && request.method !== "HEAD") {
      let status: { kind?: string } | undefined;
      try {
        const protobuf = res.headers.get("Content-Type") === "application/vnd.kubernetes.protobuf";
        status = (protobuf ? decodeProtobufObject(bytes) : JSON.parse(body)) as { kind?: string };
      } catch {}
      if (status?.kind !== "Status") finding("error without a Status body");
      if (request.creates && res.status !== 409) {
        const { resource, namespace, name } = request.creates;
        const stored = await options.client.tryGet(resource, namespace, name).catch(() => undefined);
        if (stored) finding("object stored although the write answered with an error");
      }
    }
  }
  return report;
}
