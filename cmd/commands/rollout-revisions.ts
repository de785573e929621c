import type { ControllerRevision, DaemonSet, StatefulSet } from "kubernetes-types/apps/v1";
import { templateOf } from "../../core/controllers/controller-revisions.ts";
import { ApiError } from "../../core/errors.ts";
import { deepEqual } from "../../core/patch/deep-equal.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { formatColumns } from "../printer.ts";

/**
 * `minik rollout history|undo` for StatefulSets and DaemonSets, whose history is their
 * ControllerRevisions (kubectl's history and rollback for them), and kubectl's status wording.
 */
export type RevisionKind = "statefulset" | "daemonset";

const PLURAL: Record<RevisionKind, string> = { statefulset: "statefulsets", daemonset: "daemonsets" };
const CHANGE_CAUSE = "kubernetes.io/change-cause";

export function revisionPath(kind: RevisionKind, ns: string, name: string): string {
  return `/apis/apps/v1/namespaces/${ns}/${PLURAL[kind]}/${name}`;
}

type Status = { done: boolean; text: string };

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetRolloutMessage(sts: StatefulSet): Status {
  const strategy = sts.spec?.updateStrategy;
  if ((strategy?.type ?? "RollingUpdate") !== "RollingUpdate")
    throw new ApiError("BadRequest", "rollout status is only available for RollingUpdate strategy type");
  const s = sts.status;
  if (!s?.observedGeneration || (sts.metadata?.generation ?? 0) > s.observedGeneration)
    return { done: false, text: "Waiting for statefulset spec update to be observed..." };
  const replicas = sts.spec?.replicas ?? 1;
  if ((s.readyReplicas ?? 0) < replicas)
    return { done: false, text: `Waiting for ${replicas - (s.readyReplicas ?? 0)} pods to be ready...` };
  const updated = s.updatedReplicas ?? 0;
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (partition !== undefined && updated < replicas - partition)
      return {
        done: false,
        text: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
      };
    return { done: true, text: `partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (s.updateRevision !== s.currentRevision)
    return {
      done: false,
      text: `waiting for statefulset rolling update to complete ${updated} pods at revision ${s.updateRevision}...`,
    };
  return {
    done: true,
    text: `statefulset rolling update complete ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision}...`,
  };
}

/** kubectl's DaemonSetStatusViewer. */
export function daemonSetRolloutMessage(ds: DaemonSet): Status {
  if ((ds.spec?.updateStrategy?.type ?? "RollingUpdate") !== "RollingUpdate")
    throw new ApiError("BadRequest", "rollout status is only available for RollingUpdate strategy type");
  const s = ds.status;
  const name = ds.metadata?.name;
  if ((ds.metadata?.generation ?? 0) > (s?.observedGeneration ?? 0))
    return { done: false, text: "Waiting for daemon set spec update to be observed..." };
  const desired = s?.desiredNumberScheduled ?? 0;
  if ((s?.updatedNumberScheduled ?? 0) < desired)
    return {
      done: false,
      text: `Waiting for daemon set "${name}" rollout to finish: ${s?.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...`,
    };
  if ((s?.numberAvailable ?? 0) < desired)
    return {
      done: false,
      text: `Waiting for daemon set "${name}" rollout to finish: ${s?.numberAvailable ?? 0} of ${desired} updated pods are available...`,
    };
  return { done: true, text: `daemon set "${name}" successfully rolled out` };
}

type Owner = { metadata: { name: string; uid: string }; spec: { template?: unknown } };

/** The owner and its ControllerRevisions, oldest revision first. */
async function history(api: ApiClient, kind: RevisionKind, ns: string, name: string) {
  const owner = await api.get<Owner>(revisionPath(kind, ns, name));
  const list = await api.get<{ items: ControllerRevision[] }>(
    `/apis/apps/v1/namespaces/${ns}/controllerrevisions`,
  );
  const revisions = list.items
    .filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === owner.metadata.uid && o.controller))
    .sort((a, b) => a.revision - b.revision);
  return { owner, revisions };
}

export async function showHistory(
  kind: RevisionKind,
  name: string,
  opts: GlobalOptions & { revision?: number },
): Promise<void> {
  const api = new ApiClient(opts);
  const { revisions } = await history(api, kind, opts.namespace ?? "default", name);
  if (opts.revision) {
    const rev = revisions.find((r) => r.revision === Number(opts.revision));
    if (!rev) throw new ApiError("NotFound", `unable to find the specified revision ${opts.revision}`);
    console.log(`${kind}.apps/${name} with revision #${rev.revision}`);
    console.log(JSON.stringify(templateOf(rev), null, 2));
    return;
  }
  console.log(`${kind}.apps/${name}`);
  const rows = revisions.map((r) => [
    String(r.revision),
    r.metadata?.annotations?.[CHANGE_CAUSE] ?? "<none>",
  ]);
  console.log(formatColumns([["REVISION", "CHANGE-CAUSE"], ...rows], undefined, 2));
}

/** kubectl's StatefulSet/DaemonSet rollbacker: the revision's template goes back into the spec. */
export async function undoToRevision(
  kind: RevisionKind,
  name: string,
  opts: GlobalOptions & { toRevision?: number },
): Promise<void> {
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const { owner, revisions } = await history(api, kind, ns, name);
  const wanted = opts.toRevision ? Number(opts.toRevision) : 0;
  let target: ControllerRevision | undefined;
  if (wanted) {
    target = revisions.find((r) => r.revision === wanted);
    if (!target) throw new ApiError("NotFound", `unable to find specified revision ${wanted} in history`);
  } else {
    if (revisions.length <= 1) throw new ApiError("BadRequest", "no last revision to roll back to");
    target = revisions.at(-2);
  }
  const template = templateOf(target!);
  if (deepEqual(template, owner.spec.template)) {
    console.log(
      `${kind}.apps/${name} skipped rollback (current template already matches revision ${target!.revision})`,
    );
    return;
  }
  await api.request("PATCH", revisionPath(kind, ns, name), {
    contentType: "application/json-patch+json",
    body: [{ op: "replace", path: "/spec/template", value: template }],
  });
  console.log(`${kind}.apps/${name} rolled back`);
}
