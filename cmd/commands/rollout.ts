import { ApiError } from "../../core/errors.ts";
import type { KubeObject } from "../../core/object.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { platform } from "../platform/index.ts";
import { formatColumns } from "../printer.ts";
import { UsageError } from "../usage-error.ts";
import {
  daemonSetRolloutMessage,
  type RevisionKind,
  revisionPath,
  showHistory,
  statefulSetRolloutMessage,
  undoToRevision,
} from "./rollout-revisions.ts";

const REVISION = "deployment.kubernetes.io/revision";

type RolloutKind = "deployment" | RevisionKind;

/** `deploy/NAME`, `sts/NAME`, `daemonsets.apps/NAME` … → the kind and the name. */
export function rolloutTarget(target: string): { kind: RolloutKind; name: string } {
  const m = /^([a-z]+)(?:\.apps)?\/(.+)$/.exec(target);
  const kinds: Record<string, RolloutKind> = {
    deployment: "deployment",
    deployments: "deployment",
    deploy: "deployment",
    statefulset: "statefulset",
    statefulsets: "statefulset",
    sts: "statefulset",
    daemonset: "daemonset",
    daemonsets: "daemonset",
    ds: "daemonset",
  };
  const kind = m ? kinds[m[1]!] : undefined;
  if (!kind)
    throw new UsageError(
      `rollout works on deployments, statefulsets and daemonsets: use deployment/NAME, statefulset/NAME or daemonset/NAME (got "${target}")`,
    );
  return { kind, name: m![2]! };
}

/** Only Deployments pause (kubectl's wording for the others). */
function pausableName(target: string, verb: "pausing" | "resuming"): string {
  const { kind, name } = rolloutTarget(target);
  if (kind !== "deployment")
    throw new UsageError(`${kind}s.apps "${name}" ${verb} is not supported (only deployments pause)`);
  return name;
}

function path(ns: string, name?: string, sub?: string) {
  return `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;
}

const STATUS: Record<RolloutKind, (obj: any) => { done: boolean; text: string }> = {
  deployment: rolloutMessage,
  statefulset: statefulSetRolloutMessage,
  daemonset: daemonSetRolloutMessage,
};

/** `minik rollout status`: waits until the rollout is complete, printing kubectl's lines. */
export async function status(target: string, opts: GlobalOptions & { timeout?: number }) {
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const { kind, name } = rolloutTarget(target);
  const at = kind === "deployment" ? path(ns, name) : revisionPath(kind, ns, name);
  const deadline = Date.now() + (opts.timeout ? Number(opts.timeout) * 1000 : 10 * 60_000);
  let last = "";
  while (Date.now() < deadline) {
    const msg = STATUS[kind](await api.get<any>(at));
    if (msg.done) {
      console.log(msg.text);
      return;
    }
    if (msg.text !== last) console.log(msg.text);
    last = msg.text;
    await platform.sleep(200);
  }
  throw new ApiError("Timeout", `timed out waiting for ${kind} "${name}" to roll out`);
}

export function rolloutMessage(d: any): { done: boolean; text: string } {
  const name = d.metadata.name;
  const s = d.status ?? {};
  const want = d.spec.replicas ?? 1;
  if ((s.observedGeneration ?? 0) < d.metadata.generation)
    return { done: false, text: `Waiting for deployment spec update to be observed...` };
  const progressing = (s.conditions ?? []).find((c: any) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded")
    throw new ApiError("Timeout", `deployment "${name}" exceeded its progress deadline`);
  if ((s.updatedReplicas ?? 0) < want)
    return {
      done: false,
      text: `Waiting for deployment "${name}" rollout to finish: ${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated...`,
    };
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0))
    return {
      done: false,
      text: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old replicas are pending termination...`,
    };
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0))
    return {
      done: false,
      text: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${s.updatedReplicas} updated replicas are available...`,
    };
  return { done: true, text: `deployment "${name}" successfully rolled out` };
}

async function ownedReplicaSets(api: ApiClient, ns: string, d: KubeObject): Promise<any[]> {
  const list = await api.get<{ items: any[] }>(`/apis/apps/v1/namespaces/${ns}/replicasets`);
  return list.items
    .filter((rs) => rs.metadata.ownerReferences?.some((o: any) => o.uid === d.metadata.uid))
    .sort(
      (a, b) =>
        Number(a.metadata.annotations?.[REVISION] ?? 0) - Number(b.metadata.annotations?.[REVISION] ?? 0),
    );
}

export async function history(target: string, opts: GlobalOptions & { revision?: number }) {
  const { kind, name } = rolloutTarget(target);
  if (kind !== "deployment") return showHistory(kind, name, opts);
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const d = await api.get(path(ns, name));
  const sets = await ownedReplicaSets(api, ns, d);
  if (opts.revision) {
    const rs = sets.find((r) => Number(r.metadata.annotations?.[REVISION]) === Number(opts.revision));
    if (!rs) throw new ApiError("NotFound", `unable to find the specified revision ${opts.revision}`);
    console.log(JSON.stringify(rs.spec.template, null, 2));
    return;
  }
  console.log(`deployment.apps/${d.metadata.name}`);
  const rows = sets.map((rs) => [
    String(rs.metadata.annotations?.[REVISION] ?? "?"),
    rs.metadata.annotations?.["kubernetes.io/change-cause"] ?? "<none>",
  ]);
  console.log(formatColumns([["REVISION", "CHANGE-CAUSE"], ...rows], undefined, 2));
}

/** Rolls back by copying an older ReplicaSet's template into the Deployment; the controller reuses that ReplicaSet. */
export async function undo(target: string, opts: GlobalOptions & { toRevision?: number }) {
  const { kind, name } = rolloutTarget(target);
  if (kind !== "deployment") return undoToRevision(kind, name, opts);
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const d = await api.get<any>(path(ns, name));
  if (d.spec.paused)
    throw new ApiError(
      "BadRequest",
      `you cannot rollback a paused deployment; resume it first with 'minik rollout resume deployment/${name}' and try again`,
    );
  const sets = await ownedReplicaSets(api, ns, d);
  const current = Number(d.metadata.annotations?.[REVISION] ?? 0);
  const wanted = opts.toRevision ? Number(opts.toRevision) : undefined;
  const rs = wanted
    ? sets.find((r) => Number(r.metadata.annotations?.[REVISION]) === wanted)
    : [...sets].reverse().find((r) => Number(r.metadata.annotations?.[REVISION]) < current);
  if (!rs) {
    throw new ApiError(
      "NotFound",
      wanted
        ? `unable to find specified revision ${wanted} in history`
        : `no rollout history found for deployment "${name}"`,
    );
  }
  if (Number(rs.metadata.annotations?.[REVISION]) === current) {
    console.log(
      `deployment.apps/${name} skipped rollback (current template already matches revision ${current})`,
    );
    return;
  }
  const template = structuredClone(rs.spec.template);
  delete template.metadata?.labels?.["pod-template-hash"];
  await api.request("PATCH", path(ns, name), {
    contentType: "application/json-patch+json",
    body: [{ op: "replace", path: "/spec/template", value: template }],
  });
  console.log(`deployment.apps/${name} rolled back`);
}

export async function setPaused(target: string, paused: boolean, opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const name = pausableName(target, paused ? "pausing" : "resuming");
  await api.request("PATCH", path(opts.namespace ?? "default", name), {
    contentType: "application/merge-patch+json",
    body: { spec: { paused: paused ? true : null } },
  });
  console.log(`deployment.apps/${name} ${paused ? "paused" : "resumed"}`);
}

/** A new template annotation: every pod is replaced by the kind's own rollout. */
export async function restart(target: string, opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const { kind, name } = rolloutTarget(target);
  const ns = opts.namespace ?? "default";
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await api.request("PATCH", kind === "deployment" ? path(ns, name) : revisionPath(kind, ns, name), {
    contentType: "application/merge-patch+json",
    body: { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": now } } } } },
  });
  console.log(`${kind}.apps/${name} restarted`);
}
