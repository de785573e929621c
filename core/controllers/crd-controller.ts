import { setCondition } from "../conditions.ts";
import {
  CRD_CLEANUP_FINALIZER,
  CRD_RESOURCE,
  type CrdNames,
  type CustomResourceDefinition,
} from "../crd/types.ts";
import { isApiError } from "../errors.ts";
import { timestamp } from "../loop/clock.ts";
import { type Controller, type ControllerContext, createController, keyOf } from "./controller.ts";

/** How often a terminating CRD is checked while its objects are still going. */
const RECHECK_MS = 250;
/** Objects deleted per reconcile of a terminating CRD (bounded work; the rest on requeue). */
const DELETE_BATCH = 500;

/**
 * The apiextensions controllers in one: accepts a CRD's names unless another CRD of the same
 * group already uses them (NamesAccepted, then Established, with status.acceptedNames and
 * storedVersions), and empties a deleted CRD (Terminating) before removing its cleanup finalizer,
 * so deleting a CRD deletes its objects.
 */
export function createCrdController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const crds = informers.for<CustomResourceDefinition>(CRD_RESOURCE);
  const controller = createController({
    name: "customresourcedefinition",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => crds.list().map(keyOf) },
  });
  crds.onEvent((e) => {
    if (e.type === "DELETED") {
      // a freed name may unblock another CRD of the same group
      for (const other of crds.list())
        if (other.spec.group === e.object.spec.group) controller.enqueue(keyOf(other));
      return;
    }
    controller.enqueue(keyOf(e.object));
  });
  return controller;

  async function reconcile(name: string) {
    const crd = crds.get("", name);
    if (!crd) return;
    if (crd.metadata.deletionTimestamp) return cleanUp(crd);
    const now = timestamp(ctx.clock);
    const conflict = nameConflict(crd, crds.list());
    let conditions = setCondition(
      crd.status?.conditions,
      conflict
        ? { type: "NamesAccepted", status: "False", reason: "NameConflict", message: conflict }
        : { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found" },
      now,
    );
    conditions = setCondition(
      conditions,
      conflict
        ? {
            type: "Established",
            status: "False",
            reason: "NotAccepted",
            message: "not all names are accepted",
          }
        : {
            type: "Established",
            status: "True",
            reason: "InitialNamesAccepted",
            message: "the initial names have been accepted",
          },
      now,
    );
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    const storedVersions = [
      ...new Set([...(crd.status?.storedVersions ?? []), ...(storage ? [storage] : [])]),
    ];
    const status = {
      ...crd.status,
      conditions,
      acceptedNames: conflict
        ? (crd.status?.acceptedNames ?? { plural: "", kind: "" })
        : acceptedNames(crd.spec.names),
      storedVersions,
    };
    if (JSON.stringify(status) === JSON.stringify(crd.status)) return;
    crds.observe(await client.updateStatus<CustomResourceDefinition>(CRD_RESOURCE, { ...crd, status }));
  }

  async function cleanUp(crd: CustomResourceDefinition) {
    const name = crd.metadata.name!;
    const conditions = setCondition(
      crd.status?.conditions,
      {
        type: "Terminating",
        status: "True",
        reason: "InstanceDeletionInProgress",
        message: "CustomResource deletion is in progress",
      },
      timestamp(ctx.clock),
    );
    if (JSON.stringify(conditions) !== JSON.stringify(crd.status?.conditions))
      crds.observe(
        await client.updateStatus<CustomResourceDefinition>(CRD_RESOURCE, {
          ...crd,
          status: { ...crd.status, conditions },
        }),
      );
    const { items } = await client.list(name);
    for (const obj of items.slice(0, DELETE_BATCH)) {
      if (obj.metadata.deletionTimestamp) continue;
      try {
        await client.delete(name, obj.metadata.namespace ?? "", obj.metadata.name!, {
          propagationPolicy: "Background",
        });
      } catch (e) {
        if (!isApiError(e, "NotFound")) throw e;
      }
    }
    if (items.length > 0) return { requeueAfterMs: RECHECK_MS };
    const latest = await client.get<CustomResourceDefinition>(CRD_RESOURCE, "", name);
    const finalizers = (latest.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    if (finalizers.length === (latest.metadata.finalizers ?? []).length) return;
    await client.update(CRD_RESOURCE, { ...latest, metadata: { ...latest.metadata, finalizers } });
  }
}

function acceptedNames(names: CrdNames): CrdNames {
  return {
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
    ...(names.categories?.length ? { categories: names.categories } : {}),
  };
}

/** Why `crd`'s names clash with an older CRD of its group, or undefined. */
export function nameConflict(
  crd: CustomResourceDefinition,
  all: CustomResourceDefinition[],
): string | undefined {
  const mine = acceptedNames(crd.spec.names);
  for (const other of all) {
    if (other.metadata.name === crd.metadata.name || other.spec.group !== crd.spec.group) continue;
    if ((other.metadata.creationTimestamp ?? "") > (crd.metadata.creationTimestamp ?? "")) continue;
    const theirs = acceptedNames(other.spec.names);
    const resourceNames = new Set([theirs.plural, theirs.singular, ...(theirs.shortNames ?? [])]);
    for (const n of [mine.plural, mine.singular, ...(mine.shortNames ?? [])])
      if (n && resourceNames.has(n)) return `"${n}" is already in use`;
    if (mine.kind === theirs.kind || mine.listKind === theirs.listKind)
      return `"${mine.kind === theirs.kind ? mine.kind : mine.listKind}" is already in use`;
  }
  return undefined;
}
