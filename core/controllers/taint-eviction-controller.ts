import type { Node, Pod, Taint } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import { parseTime } from "../loop/clock.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";
import { tolerates } from "./scheduler.ts";

/**
 * Kubernetes' taint eviction controller: a pod bound to a node with NoExecute taints is deleted
 * at once when one of them is not tolerated, else once the shortest `tolerationSeconds` of the
 * matching tolerations has passed since the taint was added; a toleration without seconds keeps
 * the pod for good. Admission gives every pod not-ready/unreachable tolerations of 300 s, so a
 * node that turns NotReady (node-controller.ts) loses its pods after five minutes — slow on
 * purpose, as in Kubernetes.
 */
export function createTaintEvictionController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const nodes = informers.for<Kube<Node>>("nodes");
  const pods = informers.for<Kube<Pod>>("pods");
  const recorder = ctx.events("taint-eviction-controller");
  const controller = createController({ name: "taint-eviction", log: ctx.log, reconcile });
  nodes.onEvent((e) => {
    const name = e.object.metadata.name;
    for (const p of pods.list()) if (p.spec?.nodeName === name) controller.enqueue(keyOf(p));
  });
  pods.onEvent((e) => {
    if (e.type !== "DELETED") controller.enqueue(keyOf(e.object));
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const pod = pods.get(namespace, name);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) return;
    const taints = (nodes.get("", nodeName)?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
    const delay = evictionDelayMs(pod, taints, clock.now());
    if (delay === undefined) return;
    if (delay > 0) return { requeueAfterMs: delay };
    recorder.record(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${namespace}/${name}`);
    try {
      await client.delete("pods", namespace, name);
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
    }
  }
}

/**
 * How long `pod` may stay under these NoExecute taints (Kubernetes' getMinTolerationTime):
 * undefined = for good (no taints, or no matching toleration has seconds), 0 = not at all (a
 * taint is not tolerated), else the milliseconds left of the shortest tolerationSeconds, counted
 * from when the taints were added.
 */
export function evictionDelayMs(pod: Pod, taints: Taint[], now: number): number | undefined {
  if (!taints.length) return undefined;
  const used = new Set<NonNullable<NonNullable<Pod["spec"]>["tolerations"]>[number]>();
  for (const taint of taints) {
    const matching = (pod.spec?.tolerations ?? []).filter((t) => tolerates(t, taint));
    if (!matching.length) return 0;
    for (const t of matching) used.add(t);
  }
  const seconds = [...used].flatMap((t) =>
    typeof t.tolerationSeconds === "number" ? [t.tolerationSeconds] : [],
  );
  if (!seconds.length) return undefined;
  const added = Math.max(
    ...taints.map((t) => parseTime(t.timeAdded)).map((t) => (Number.isNaN(t) ? now : t)),
  );
  return Math.max(0, added + Math.max(0, Math.min(...seconds)) * 1000 - now);
}
