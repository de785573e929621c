import type { ControllerRevision } from "kubernetes-types/apps/v1";
import type { PodTemplateSpec } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { labelSelectorMatches } from "../selectors.ts";
import type { Informer } from "./informer.ts";
import { isControlledBy, type Kube, ownerReferenceTo } from "./owner-references.ts";
import { computeHash, equalIgnoreHash } from "./pod-template-hash.ts";

/**
 * ControllerRevisions of StatefulSets and DaemonSets (Kubernetes' history package): one per
 * distinct pod template, named `<owner>-<hash>`, holding `{"spec":{"template":{…,"$patch":"replace"}}}`
 * — the strategic merge patch `kubectl rollout undo` sends back — and numbered by `revision`.
 */
export type Revision = Kube<ControllerRevision>;
export const REVISION_HASH_LABEL = "controller-revision-hash";
const CHANGE_CAUSE = "kubernetes.io/change-cause";

interface Owner extends KubeObject {
  spec?: { selector?: LabelSelector; template?: PodTemplateSpec; revisionHistoryLimit?: number };
}

export function revisionData(template: PodTemplateSpec | undefined): unknown {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: "replace" } } };
}

/** The pod template a revision holds. */
export function templateOf(rev: ControllerRevision): PodTemplateSpec {
  const t = structuredClone(
    (rev.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } })?.spec?.template ?? {},
  );
  delete t.$patch;
  return t;
}

export function ownedRevisions(revisions: Informer<Revision>, owner: Owner): Revision[] {
  return revisions
    .list(owner.metadata.namespace)
    .filter((r) => isControlledBy(r, owner))
    .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

/**
 * The revision of the owner's current template, created (or renumbered to the newest, after a
 * rollback to an old template) as needed.
 */
export async function ensureUpdateRevision(
  client: Client,
  revisions: Informer<Revision>,
  owner: Owner,
): Promise<Revision> {
  await adoptOrphans(client, revisions, owner);
  const owned = ownedRevisions(revisions, owner);
  const template = owner.spec?.template;
  const max = owned.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
  const existing = owned.filter((r) => equalIgnoreHash(templateOf(r), template)).pop();
  if (existing) {
    if ((existing.revision ?? 0) === max) return existing;
    const renumbered = await client.update<Revision>("controllerrevisions.apps", {
      ...existing,
      revision: max + 1,
    });
    revisions.observe(renumbered);
    return renumbered;
  }
  // A name taken by a revision that is not ours (another owner's): hash again with a collision count.
  let collisions = 0;
  let hash = computeHash(template);
  while (revisions.get(owner.metadata.namespace ?? "", `${owner.metadata.name}-${hash}`) && collisions < 10)
    hash = computeHash(template, ++collisions);
  const cause = owner.metadata.annotations?.[CHANGE_CAUSE];
  const rev: Revision = {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: `${owner.metadata.name}-${hash}`,
      namespace: owner.metadata.namespace,
      labels: { ...template?.metadata?.labels, [REVISION_HASH_LABEL]: hash },
      ...(cause ? { annotations: { [CHANGE_CAUSE]: cause } } : {}),
      ownerReferences: [ownerReferenceTo(owner)],
    },
    data: revisionData(template) as ControllerRevision["data"],
    revision: max + 1,
  };
  const created = await client.create<Revision>("controllerrevisions.apps", rev);
  revisions.observe(created);
  return created;
}

/** Revisions left without a controller (the owner deleted with cascade=orphan) that match the selector. */
async function adoptOrphans(client: Client, revisions: Informer<Revision>, owner: Owner): Promise<void> {
  for (const r of revisions.list(owner.metadata.namespace)) {
    if (r.metadata.ownerReferences?.some((x) => x.controller) || r.metadata.deletionTimestamp) continue;
    if (!owner.spec?.selector || !labelSelectorMatches(owner.spec.selector, r.metadata.labels)) continue;
    const adopted = await client.update<Revision>("controllerrevisions.apps", {
      ...r,
      metadata: {
        ...r.metadata,
        ownerReferences: [...(r.metadata.ownerReferences ?? []), ownerReferenceTo(owner)],
      },
    });
    revisions.observe(adopted);
  }
}

/** Deletes the oldest revisions no pod uses beyond revisionHistoryLimit. */
export async function pruneRevisions(
  client: Client,
  revisions: Informer<Revision>,
  owner: Owner,
  live: Set<string>,
): Promise<void> {
  const limit = owner.spec?.revisionHistoryLimit ?? 10;
  const old = ownedRevisions(revisions, owner).filter((r) => !live.has(r.metadata.name!));
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    await client.delete("controllerrevisions.apps", r.metadata.namespace!, r.metadata.name!);
    revisions.observeDeleted(r);
  }
}
