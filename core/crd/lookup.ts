import type { Client } from "../seams/client.ts";
import { CRD_RESOURCE, type CustomResourceDefinition } from "./types.ts";

/** The store key and scope of the custom resource an apiVersion and kind name, if a CRD serves it. */
export async function findCustomResource(
  client: Client,
  apiVersion: string,
  kind: string,
): Promise<{ resource: string; namespaced: boolean } | undefined> {
  const [group, version] = apiVersion.split("/");
  if (!version) return undefined;
  const { items } = await client.list<CustomResourceDefinition>(CRD_RESOURCE);
  const crd = items.find(
    (c) =>
      c.spec.group === group && c.spec.names.kind === kind && c.spec.versions.some((v) => v.name === version),
  );
  return crd && { resource: crd.metadata.name!, namespaced: crd.spec.scope !== "Cluster" };
}

/** Store keys of every namespaced custom resource (what a terminating namespace must empty too). */
export async function namespacedCustomResources(client: Client): Promise<string[]> {
  const { items } = await client.list<CustomResourceDefinition>(CRD_RESOURCE);
  return items.filter((c) => c.spec.scope !== "Cluster").map((c) => c.metadata.name!);
}
