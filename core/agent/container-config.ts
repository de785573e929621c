import type { Container, Pod, PodSecurityContext, SecurityContext } from "kubernetes-types/core/v1";
import { cpuMillis, quantityValue } from "../quantity.ts";
import {
  type ContainerConfig,
  type ContainerResources,
  type Mount,
  RuntimeError,
  type SecurityOptions,
} from "../seams/container-runtime.ts";
import { expand } from "./env.ts";
import { podDescription } from "./pod-names.ts";

/**
 * The pure part of starting a container: pod spec + resolved env and mounts → the runtime's
 * ContainerConfig. No I/O, so it can be checked field by field.
 */
export function buildContainerConfig(
  pod: Pod,
  container: Container,
  attempt: number,
  env: { name: string; value: string }[],
  mounts: Mount[],
  imageUser?: string,
): ContainerConfig {
  checkNonRoot(pod, container, imageUser);
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const lookup = (n: string) => vars.get(n);
  return {
    podUid: pod.metadata?.uid ?? "",
    podNamespace: pod.metadata?.namespace ?? "default",
    podName: pod.metadata?.name ?? "",
    name: container.name,
    attempt,
    image: container.image ?? "",
    ...(container.command ? { command: container.command.map((c) => expand(c, lookup)) } : {}),
    ...(container.args ? { args: container.args.map((a) => expand(a, lookup)) } : {}),
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    env,
    resources: containerResources(container),
    mounts,
    security: securityOptions(pod.spec?.securityContext, container.securityContext),
    tty: Boolean(container.tty),
    stdin: Boolean(container.stdin),
    stdinOnce: Boolean(container.stdinOnce),
    terminationMessagePath: container.terminationMessagePath ?? "/dev/termination-log",
  };
}

/**
 * runAsNonRoot as the kubelet verifies it (verifyRunAsNonRoot), before anything is created: an
 * explicit runAsUser decides alone; otherwise the image's User does — empty means root, a
 * numeric user (before any ":group") is the uid, and a name cannot be verified (it would need
 * the image's /etc/passwd, which the kubelet does not read either), so it is refused too.
 */
function checkNonRoot(pod: Pod, c: Container, imageUser: string | undefined): void {
  const nonRoot = c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  if (!nonRoot) return;
  const refuse = (why: string) =>
    new RuntimeError(
      "CreateContainerConfigError",
      `${why} (pod: "${podDescription(pod)}", container: ${c.name})`,
    );
  const user = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
  if (user !== undefined) {
    if (user === 0) throw refuse("container's runAsUser breaks non-root policy");
    return;
  }
  const name = (imageUser ?? "").split(":")[0] ?? "";
  if (name === "" || (/^\d+$/.test(name) && Number(name) === 0))
    throw refuse("container has runAsNonRoot and image will run as root");
  if (!/^\d+$/.test(name))
    throw refuse(
      `container has runAsNonRoot and image has non-numeric user (${name}), cannot verify user is non-root`,
    );
}

/** Pod-level settings with the container's own taking precedence, as the kubelet merges them. */
export function securityOptions(
  pod: PodSecurityContext | undefined,
  c: SecurityContext | undefined,
): SecurityOptions {
  const out: SecurityOptions = {};
  const runAsUser = c?.runAsUser ?? pod?.runAsUser;
  const runAsGroup = c?.runAsGroup ?? pod?.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  const groups = [...(pod?.supplementalGroups ?? []), ...(pod?.fsGroup !== undefined ? [pod.fsGroup] : [])];
  if (groups.length) out.supplementalGroups = [...new Set(groups)];
  if (c?.privileged !== undefined) out.privileged = c.privileged;
  if (c?.readOnlyRootFilesystem !== undefined) out.readOnlyRootFilesystem = c.readOnlyRootFilesystem;
  if (c?.allowPrivilegeEscalation !== undefined) out.allowPrivilegeEscalation = c.allowPrivilegeEscalation;
  if (c?.capabilities?.add?.length) out.capabilitiesAdd = c.capabilities.add;
  if (c?.capabilities?.drop?.length) out.capabilitiesDrop = c.capabilities.drop;
  return out;
}

/** limits/requests → runtime resources; a missing request defaults to the limit, as in Kubernetes. */
export function containerResources(c: Container): ContainerResources {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const out: ContainerResources = {};
  if (limits.cpu !== undefined) out.cpuLimitMillis = cpuMillis(limits.cpu);
  const cpuRequest = requests.cpu ?? limits.cpu;
  if (cpuRequest !== undefined) out.cpuRequestMillis = cpuMillis(cpuRequest);
  if (limits.memory !== undefined) out.memoryLimitBytes = quantityValue(limits.memory);
  const memRequest = requests.memory ?? limits.memory;
  if (memRequest !== undefined) out.memoryRequestBytes = quantityValue(memRequest);
  return out;
}

/**
 * Pod cgroup limits: the larger of the biggest init container and the sum of the app containers,
 * and only when every container sets that limit (otherwise the pod is unbounded).
 */
export function podResources(pod: Pod): ContainerResources | undefined {
  const apps = (pod.spec?.containers ?? []).map(containerResources);
  const inits = (pod.spec?.initContainers ?? []).map((c) => ({
    sidecar: c.restartPolicy === "Always",
    r: containerResources(c),
  }));
  const out: ContainerResources = {};
  for (const key of ["cpuLimitMillis", "memoryLimitBytes"] as const) {
    if (
      apps.length === 0 ||
      apps.some((r) => r[key] === undefined) ||
      inits.some((i) => i.r[key] === undefined)
    )
      continue;
    // Sidecars run beside the app containers; each init container beside the sidecars before it.
    let sum = apps.reduce((s, r) => s + r[key]!, 0);
    let sidecars = 0;
    let peak = 0;
    for (const i of inits) {
      if (i.sidecar) {
        sum += i.r[key]!;
        sidecars += i.r[key]!;
        peak = Math.max(peak, sidecars);
      } else peak = Math.max(peak, sidecars + i.r[key]!);
    }
    out[key] = Math.max(sum, peak);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Guaranteed, Burstable or BestEffort, by Kubernetes' rules over cpu and memory. */
export function qosClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = c.resources?.requests ?? {};
    for (const r of ["cpu", "memory"]) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit !== undefined || request !== undefined) any = true;
      if (limit === undefined) guaranteed = false;
      else if (
        r === "cpu"
          ? cpuMillis(request) !== cpuMillis(limit)
          : quantityValue(request) !== quantityValue(limit)
      ) {
        guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
