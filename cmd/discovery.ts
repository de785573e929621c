import { apiVersionOf, findByKind, RESOURCES, type ResourceInfo } from "../core/resources.ts";
import type { ApiClient } from "./api-client.ts";

const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

interface DiscoveryList {
  items?: {
    metadata: { name: string };
    versions: {
      version: string;
      resources: {
        resource: string;
        responseKind: { kind: string };
        scope: string;
        singularResource?: string;
        shortNames?: string[];
        categories?: string[];
        subresources?: { subresource: string }[];
      }[];
    }[];
  }[];
}

/**
 * Kinds the server serves beyond core/resources.ts (custom resources), from aggregated
 * discovery, fetched once per command and only when a name or manifest is not a built-in one.
 * Each group's preferred version comes first.
 */
export function createDiscovery(api: ApiClient) {
  let served: Promise<ResourceInfo[]> | undefined;
  const load = async (): Promise<ResourceInfo[]> => {
    const list = await api.get<DiscoveryList>("/apis", { accept: AGGREGATED });
    const out: ResourceInfo[] = [];
    for (const group of list.items ?? []) {
      for (const v of group.versions) {
        for (const r of v.resources) {
          const builtin = RESOURCES.some((b) => b.group === group.metadata.name && b.plural === r.resource);
          if (builtin) continue;
          out.push({
            group: group.metadata.name,
            version: v.version,
            kind: r.responseKind.kind,
            listKind: `${r.responseKind.kind}List`,
            plural: r.resource,
            singular: r.singularResource || r.responseKind.kind.toLowerCase(),
            namespaced: r.scope === "Namespaced",
            shortNames: r.shortNames ?? [],
            categories: r.categories ?? [],
            subresources: (r.subresources ?? []).map((s) => s.subresource),
          });
        }
      }
    }
    return out;
  };
  const all = () => {
    served ??= load();
    return served;
  };
  return {
    /** What a manifest's apiVersion and kind name: built-in first, then served. */
    async byKind(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
      return (
        findByKind(apiVersion, kind) ??
        (await all()).find((r) => r.kind === kind && apiVersionOf(r) === apiVersion)
      );
    },
    /** A served kind by plural, singular, short name or kind, with an optional `.group`. */
    async byAlias(name: string): Promise<ResourceInfo | undefined> {
      const n = name.toLowerCase();
      return (await all()).find((r) => {
        const names = [r.plural, r.singular, r.kind.toLowerCase(), ...r.shortNames];
        return names.some((x) => n === x || n === `${x}.${r.group}`);
      });
    },
    /** Served kinds in a category (`all`), preferred versions only. */
    async inCategory(category: string): Promise<ResourceInfo[]> {
      const seen = new Set<string>();
      return (await all()).filter((r) => {
        const key = `${r.plural}.${r.group}`;
        if (!r.categories.includes(category) || seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    },
  };
}

export type Discovery = ReturnType<typeof createDiscovery>;
