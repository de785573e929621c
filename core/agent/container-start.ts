import type { Container, Pod, Service } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import {
  type ContainerStatus,
  type ImageRef,
  type PullPolicy,
  RuntimeError,
  type VolumeSource,
} from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { buildContainerConfig } from "./container-config.ts";
import { type PodPlacement, resolveEnv, serviceLinkEnv } from "./env.ts";
import { runPostStart } from "./lifecycle.ts";
import { asObject } from "./pod-names.ts";
import { containerMounts, resolveVolumes, type TokenSource } from "./volumes.ts";

/**
 * Starting one container the way the kubelet does: pull its image per imagePullPolicy (with
 * ErrImagePull → ImagePullBackOff back-off), resolve env and volumes, then create and start it.
 * Every failure becomes a waiting reason on the container plus an Event, never an exception.
 */
export interface StartOutcome {
  started?: ContainerStatus;
  waiting?: { reason: string; message?: string };
  /** Try again after this long. */
  retryMs?: number;
}

/** Per-sync cache so a pod's volumes and service env are resolved once per sync. */
export interface StartScope {
  placement: PodPlacement;
  volumes?: Map<string, VolumeSource>;
  serviceEnv?: Record<string, string>;
  /** Tokens asked for before the sandbox was made (prefetchTokens); else deps' source. */
  serviceAccountToken?: TokenSource;
}

const CONFIG_RETRY_MS = 10_000;

export function pullPolicyOf(c: Container): PullPolicy {
  if (c.imagePullPolicy) return c.imagePullPolicy as PullPolicy;
  const image = c.image ?? "";
  const last = image.slice(image.lastIndexOf("/") + 1);
  if (last.includes("@")) return "IfNotPresent";
  const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : "latest";
  return tag === "latest" ? "Always" : "IfNotPresent";
}

export async function startContainer(
  deps: AgentDeps,
  pod: Pod,
  spec: Container,
  attempt: number,
  scope: StartScope,
): Promise<StartOutcome> {
  const pulled = await pullImage(deps, pod, spec);
  if (!("ref" in pulled)) return pulled;
  const obj = asObject(pod);
  try {
    scope.serviceEnv ??= await serviceEnv(deps, pod);
    const env = await resolveEnv(pod, spec, deps.sources, scope.placement, scope.serviceEnv);
    scope.volumes ??= await resolveVolumes(pod, {
      sources: deps.sources,
      placement: scope.placement,
      serviceAccountToken: scope.serviceAccountToken ?? deps.serviceAccountToken,
    });
    const mounts = containerMounts(spec, scope.volumes, env);
    const config = buildContainerConfig(pod, spec, attempt, env, mounts, pulled.ref.user);
    const started = await deps.runtime.startContainer(config);
    deps.memory.containerStarted(started.id, spec.image ?? "");
    deps.events.record(obj, "Normal", "Created", `Created container ${spec.name}`);
    if (started.state === "exited") {
      // StartError (a missing binary): an exited container, restarted with back-off like a crash
      deps.events.record(
        obj,
        "Warning",
        "Failed",
        `Error: ${started.message ?? started.reason ?? "StartError"}`,
      );
      return { started };
    }
    deps.events.record(obj, "Normal", "Started", `Started container ${spec.name}`);
    await runPostStart(deps, pod, spec, started, scope.placement.podIP);
    return { started };
  } catch (e) {
    if (!(e instanceof RuntimeError)) throw e;
    if (e.reason === "ContainerCreating") {
      // A volume could not be set up: the kubelet keeps the pod in ContainerCreating.
      deps.events.record(obj, "Warning", "FailedMount", e.message);
      return { waiting: { reason: "ContainerCreating" }, retryMs: CONFIG_RETRY_MS };
    }
    deps.events.record(obj, "Warning", "Failed", `Error: ${e.message}`);
    return { waiting: { reason: e.reason, message: e.message }, retryMs: CONFIG_RETRY_MS };
  }
}

/**
 * Service link variables as the kubelet builds them: every Service of the pod's namespace
 * (unless enableServiceLinks is false), and always the API's own `kubernetes` Service in
 * `default`, which in-cluster clients find through KUBERNETES_SERVICE_HOST/PORT.
 */
async function serviceEnv(deps: AgentDeps, pod: Pod): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? "default";
  const services: (Service & KubeObject)[] = [];
  if (pod.spec?.enableServiceLinks !== false) {
    services.push(...(await deps.client.list<Service & KubeObject>("services", { namespace })).items);
  }
  if (namespace !== "default" || pod.spec?.enableServiceLinks === false) {
    const api = await deps.client.tryGet<Service & KubeObject>("services", "default", "kubernetes");
    if (api) services.push(api);
  }
  return serviceLinkEnv(services);
}

/** Returns a waiting outcome when the image is not available (yet), its ref when it is. */
async function pullImage(
  deps: AgentDeps,
  pod: Pod,
  spec: Container,
): Promise<StartOutcome | { ref: ImageRef }> {
  const image = spec.image ?? "";
  const policy = pullPolicyOf(spec);
  const obj = asObject(pod);
  const key = `${pod.metadata?.uid}/${image}`;
  const remaining = deps.memory.pulls.remainingSinceUpdate(key);
  if (remaining > 0) {
    const message = `Back-off pulling image ${JSON.stringify(image)}`;
    deps.events.record(obj, "Normal", "BackOff", message);
    deps.events.record(obj, "Warning", "Failed", "Error: ImagePullBackOff");
    return { waiting: { reason: "ImagePullBackOff", message }, retryMs: remaining };
  }
  const known = deps.memory.hasPulled(image) && policy !== "Always";
  if (!known && policy !== "Never")
    deps.events.record(obj, "Normal", "Pulling", `Pulling image ${JSON.stringify(image)}`);
  const began = deps.clock.now();
  try {
    const ref = await deps.runtime.pullImage(image, policy);
    deps.memory.pulls.forget(key);
    if (known || policy === "Never") {
      deps.events.record(
        obj,
        "Normal",
        "Pulled",
        `Container image ${JSON.stringify(image)} already present on machine`,
      );
    } else {
      const secs = `${((deps.clock.now() - began) / 1000).toFixed(3)}s`;
      deps.events.record(
        obj,
        "Normal",
        "Pulled",
        `Successfully pulled image ${JSON.stringify(image)} in ${secs} (${secs} including waiting). Image size: ${ref.size} bytes.`,
      );
    }
    deps.memory.imagePulled(image);
    return { ref };
  } catch (e) {
    const reason = e instanceof RuntimeError ? e.reason : "ErrImagePull";
    const message = e instanceof Error ? e.message : String(e);
    if (reason === "ErrImageNeverPull") {
      deps.events.record(obj, "Warning", "ErrImageNeverPull", message);
      return { waiting: { reason, message }, retryMs: CONFIG_RETRY_MS };
    }
    deps.memory.pulls.next(key, deps.clock.now());
    deps.events.record(obj, "Warning", "Failed", `Failed to pull image ${JSON.stringify(image)}: ${message}`);
    deps.events.record(obj, "Warning", "Failed", `Error: ${reason}`);
    // Come back within the back-off (showing ImagePullBackOff), then again when it ends.
    return { waiting: { reason, message }, retryMs: deps.memory.pulls.get(key) / 2 };
  }
}
