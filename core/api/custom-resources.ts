import { customResourceInfo } from "../crd/custom-kind.ts";
import {
  CRD_RESOURCE,
  type CrdVersion,
  type CustomResourceDefinition,
  type JsonSchema,
} from "../crd/types.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { ALL_VERBS, type ExtraResource } from "./discovery.ts";
import { createOpenApi, type OpenApiDocs, schemaName } from "./openapi.ts";
import { createOpenApiV2, type OpenApiV2 } from "./openapi-v2.ts";
import { queryFlag } from "./options.ts";
import { customResourcePrinter } from "./printers/custom-resources.ts";
import { statusResponse } from "./respond.ts";
import { convertResponse } from "./response-conversion.ts";
import { parseTarget, type Target } from "./target.ts";

type Schemas = Record<string, Record<string, unknown>>;
const OBJECT_META = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** What the API serves right now: built-in kinds plus the served versions of every CRD. */
export interface Served {
  /** Extra resources plus custom resources, for discovery. */
  resources(): Promise<ExtraResource[]>;
  /** OpenAPI v3 documents and the v2 document, rebuilt when a CRD changes. */
  openapi(): Promise<{ v3: OpenApiDocs; v2: OpenApiV2 }>;
  /** A custom resource URL, or undefined. */
  route(pathname: string): Promise<CustomTarget | undefined>;
}

export interface CustomTarget {
  target: Target;
  /** apiVersion of the URL when it is not the stored one (objects are relabelled on the way out). */
  relabel?: string;
  /** `deprecationWarning` of a version marked deprecated. */
  warning?: string;
}

interface Snapshot {
  key: string;
  resources: ExtraResource[];
  schemas: Schemas;
  versions: Map<string, { crd: CustomResourceDefinition; version: CrdVersion; storage: string }>;
  openapi?: { v3: OpenApiDocs; v2: OpenApiV2 };
}

/**
 * Custom resources in the API: read from the stored CRDs (one list per discovery, OpenAPI or
 * custom-resource request; the derived documents are rebuilt only when a CRD changed).
 */
export function createServed(client: Client, extra: ExtraResource[], schemas: Schemas): Served {
  let last: Snapshot | undefined;
  const snapshot = async (): Promise<Snapshot> => {
    const { items } = await client.list<CustomResourceDefinition>(CRD_RESOURCE);
    const served = items.filter(isServed);
    const key = served.map((c) => `${c.metadata.uid}@${c.metadata.resourceVersion}`).join(",");
    if (last?.key === key) return last;
    last = build(served, key);
    return last;
  };
  return {
    async resources() {
      return [...extra, ...(await snapshot()).resources];
    },
    async openapi() {
      const s = await snapshot();
      if (!s.openapi) {
        const all = [...extra, ...s.resources];
        const docs = { ...schemas, ...s.schemas };
        s.openapi = { v3: createOpenApi(all, docs), v2: createOpenApiV2(all, docs) };
      }
      return s.openapi;
    },
    async route(pathname) {
      if (!pathname.startsWith("/apis/")) return undefined;
      const s = await snapshot();
      const target = parseTarget(pathname, s.resources);
      if (!target) return undefined;
      const { info } = target;
      const found = s.versions.get(`${info.group}/${info.version}/${info.plural}`);
      if (!found) return undefined;
      target.printer = customResourcePrinter(found.version.additionalPrinterColumns);
      const { version, crd } = found;
      return {
        target,
        relabel: version.name === found.storage ? undefined : `${info.group}/${version.name}`,
        warning: version.deprecated
          ? (version.deprecationWarning ??
            `${info.group}/${version.name} ${crd.spec.names.kind} is deprecated`)
          : undefined,
      };
    },
  };
}

/** A custom resource request, answered in the version of its URL. */
export async function handleCustom(
  url: URL,
  c: CustomTarget,
  dispatch: (t: Target) => Promise<Response>,
): Promise<Response> {
  let res: Response;
  try {
    res = await dispatch(c.target);
  } catch (e) {
    res = statusResponse(e);
  }
  if (!c.relabel && !c.warning) return res;
  const apiVersion = c.relabel ?? `${c.target.info.group}/${c.target.info.version}`;
  const { info } = c.target;
  return convertResponse(
    res,
    {
      kind: info.kind,
      listKind: info.listKind,
      apiVersion,
      convert: (obj: KubeObject) => ({ ...obj, apiVersion }),
    },
    { watch: !c.target.name && queryFlag(url.searchParams.get("watch")), warning: c.warning },
  );
}

function isServed(crd: CustomResourceDefinition): boolean {
  const accepted = crd.status?.conditions?.find((c) => c.type === "NamesAccepted");
  return accepted?.status !== "False" && !!crd.spec?.versions?.some((v) => v.storage);
}

function build(crds: CustomResourceDefinition[], key: string): Snapshot {
  const resources: ExtraResource[] = [];
  const schemas: Schemas = {};
  const versions: Snapshot["versions"] = new Map();
  for (const crd of crds) {
    const storage = crd.spec.versions.find((v) => v.storage)!.name;
    for (const version of crd.spec.versions) {
      if (!version.served) continue;
      const info = customResourceInfo(crd, version);
      resources.push({ info, verbs: ALL_VERBS });
      versions.set(`${info.group}/${info.version}/${info.plural}`, { crd, version, storage });
      const schema = version.schema?.openAPIV3Schema;
      schemas[schemaName(info.group, info.version, info.kind)] = publishedSchema(
        schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        { group: info.group, version: info.version, kind: info.kind },
      );
    }
  }
  return { key, resources, schemas, versions };
}

/** A CRD version's schema as OpenAPI publishes it: with apiVersion, kind, metadata and its GVK. */
function publishedSchema(schema: JsonSchema, gvk: { group: string; version: string; kind: string }) {
  const { metadata: _, ...own } = schema.properties ?? {};
  return {
    ...schema,
    type: "object",
    properties: {
      apiVersion: {
        description:
          "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.",
        type: "string",
      },
      kind: {
        description:
          "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to.",
        type: "string",
      },
      metadata: { description: "Standard object's metadata.", allOf: [{ $ref: OBJECT_META }] },
      ...own,
    },
    "x-kubernetes-group-version-kind": [gvk],
  };
}
