import type { Container, PodSpec, Probe } from "kubernetes-types/core/v1";

/**
 * API defaults of a PodSpec (pods and workload templates alike), as kube-apiserver applies them
 * (pkg/apis/core/v1/defaults.go); kubectl describe shows them, e.g. `Port: 80/TCP`.
 */
export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 0o644;
    if (v.secret) v.secret.defaultMode ??= 0o644;
    if (v.hostPath) v.hostPath.type ??= "";
  }
}

/**
 * A pod on the host's network listens on the host's ports: each containerPort is defaulted as its
 * hostPort, so the scheduler's port check sees it. Pods only, not workload templates (Kubernetes
 * 1.28+ without DefaultHostNetworkHostPortsInPodTemplates).
 */
export function defaultHostNetworkPorts(spec: PodSpec): void {
  if (!spec.hostNetwork) return;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
    for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
}

export function defaultContainer(c: Container): void {
  c.imagePullPolicy ??= pullPolicyFor(c.image);
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
  // A limit without a request means requesting the limit (per resource), as the API defaults it.
  const { limits } = c.resources;
  if (limits && Object.keys(limits).length) c.resources.requests = { ...limits, ...c.resources.requests };
  for (const p of c.ports ?? []) p.protocol ??= "TCP";
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= "v1";
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (probe) defaultProbe(probe);
}

function defaultProbe(p: Probe): void {
  p.periodSeconds ??= 10;
  p.timeoutSeconds ??= 1;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= "/";
    p.httpGet.scheme ??= "HTTP";
  }
}

/** Always for `:latest` or an untagged image, IfNotPresent otherwise (digests count as tagged). */
export function pullPolicyFor(image: string | undefined): "Always" | "IfNotPresent" {
  if (!image) return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "Always";
  return lastSegment.slice(colon + 1) === "latest" ? "Always" : "IfNotPresent";
}
