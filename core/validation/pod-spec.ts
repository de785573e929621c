import type { Container, ContainerPort, PodSpec, Probe } from "kubernetes-types/core/v1";
import { parseQuantity } from "../quantity.ts";
import { type Causes, duplicate, forbidden, invalid, notSupported, required } from "./causes.ts";
import { dns1123Label, dns1123Subdomain, portName } from "./names.ts";

const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
/** The only container-level restartPolicy: "Always", on init containers (a native sidecar). */
const CONTAINER_RESTART_POLICIES = ["Always"];
const WITHOUT_ALWAYS = "may not be set for init containers without restartPolicy=Always";

/** Validates a PodSpec at `field` (`spec` for pods, `spec.template.spec` for workloads). */
export function validatePodSpec(spec: PodSpec | undefined, field: string): Causes {
  if (!spec) return [required(field)];
  const causes: Causes = [];
  const volumes = new Set<string>();
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const f = `${field}.volumes[${i}]`;
    if (!v.name) causes.push(required(`${f}.name`));
    else if (volumes.has(v.name)) causes.push(duplicate(`${f}.name`, v.name));
    else for (const e of dns1123Label(v.name)) causes.push(invalid(`${f}.name`, v.name, e));
    volumes.add(v.name);
  }
  if (!spec.containers?.length) causes.push(required(`${field}.containers`));
  const names = new Set<string>();
  const check = (list: Container[] | undefined, kind: string) => {
    for (const [i, c] of (list ?? []).entries()) {
      causes.push(...validateContainer(c, `${field}.${kind}[${i}]`, names, volumes));
    }
  };
  check(spec.initContainers, "initContainers");
  check(spec.containers, "containers");
  for (const [i, c] of (spec.initContainers ?? []).entries())
    causes.push(...validateInitOnly(c, `${field}.initContainers[${i}]`));
  for (const [i, c] of (spec.containers ?? []).entries()) {
    if (c.restartPolicy !== undefined)
      causes.push(
        forbidden(`${field}.containers[${i}].restartPolicy`, "may not be set for non-init containers"),
      );
  }
  if (spec.hostNetwork) causes.push(...validateHostNetwork(spec, field));
  if (spec.restartPolicy && !RESTART_POLICIES.includes(spec.restartPolicy)) {
    causes.push(notSupported(`${field}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy && !DNS_POLICIES.includes(spec.dnsPolicy)) {
    causes.push(notSupported(`${field}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) {
    causes.push(
      invalid(`${field}.terminationGracePeriodSeconds`, grace, "must be greater than or equal to 0"),
    );
  }
  if (spec.nodeName) {
    for (const e of dns1123Subdomain(spec.nodeName))
      causes.push(invalid(`${field}.nodeName`, spec.nodeName, e));
  }
  return causes;
}

/**
 * What only sidecars (restartPolicy: Always) may have: lifecycle hooks and probes; any other
 * restartPolicy value is refused (pkg/apis/core/validation: validateInitContainers).
 */
function validateInitOnly(c: Container, f: string): Causes {
  if (c.restartPolicy === "Always") return [];
  if (c.restartPolicy !== undefined)
    return [notSupported(`${f}.restartPolicy`, c.restartPolicy, CONTAINER_RESTART_POLICIES)];
  const causes: Causes = [];
  for (const k of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] as const)
    if (c[k]) causes.push(forbidden(`${f}.${k}`, WITHOUT_ALWAYS));
  return causes;
}

/** On the host's network a hostPort can only be the port the container listens on. */
function validateHostNetwork(spec: PodSpec, field: string): Causes {
  const causes: Causes = [];
  for (const kind of ["initContainers", "containers"] as const) {
    for (const [i, c] of (spec[kind] ?? []).entries()) {
      for (const [j, p] of (c.ports ?? []).entries()) {
        if (p.hostPort && p.hostPort !== p.containerPort)
          causes.push(
            invalid(
              `${field}.${kind}[${i}].ports[${j}].hostPort`,
              p.hostPort,
              "must match `containerPort` when `hostNetwork` is true",
            ),
          );
      }
    }
  }
  return causes;
}

function validateContainer(c: Container, f: string, names: Set<string>, volumes: Set<string>): Causes {
  const causes: Causes = [];
  if (!c.name) causes.push(required(`${f}.name`));
  else if (names.has(c.name)) causes.push(duplicate(`${f}.name`, c.name));
  else for (const e of dns1123Label(c.name)) causes.push(invalid(`${f}.name`, c.name, e));
  if (c.name) names.add(c.name);
  if (!c.image?.trim()) causes.push(required(`${f}.image`));
  if (c.imagePullPolicy && !PULL_POLICIES.includes(c.imagePullPolicy)) {
    causes.push(notSupported(`${f}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  const portNames = new Set<string>();
  for (const [i, p] of (c.ports ?? []).entries())
    causes.push(...validatePort(p, `${f}.ports[${i}]`, portNames));
  const envNames = new Set<string>();
  for (const [i, e] of (c.env ?? []).entries()) {
    if (!e.name) causes.push(required(`${f}.env[${i}].name`));
    envNames.add(e.name);
  }
  const mounts = new Set<string>();
  for (const [i, m] of (c.volumeMounts ?? []).entries()) {
    const mf = `${f}.volumeMounts[${i}]`;
    if (!m.name) causes.push(required(`${mf}.name`));
    else if (!volumes.has(m.name))
      causes.push({
        reason: "FieldValueNotFound",
        message: `Not found: ${JSON.stringify(m.name)}`,
        field: `${mf}.name`,
      });
    if (!m.mountPath) causes.push(required(`${mf}.mountPath`));
    else if (mounts.has(m.mountPath)) causes.push(invalid(`${mf}.mountPath`, m.mountPath, "must be unique"));
    mounts.add(m.mountPath);
  }
  causes.push(...validateResources(c, `${f}.resources`));
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
    if (c[probe]) causes.push(...validateProbe(c[probe]!, `${f}.${probe}`));
  }
  // a liveness or startup result is final after one success (sidecars and app containers alike)
  for (const probe of ["livenessProbe", "startupProbe"] as const) {
    const n = c[probe]?.successThreshold;
    if (n !== undefined && n !== 1) causes.push(invalid(`${f}.${probe}.successThreshold`, n, "must be 1"));
  }
  return causes;
}

const QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Requests and limits must be quantities ≥ 0, and no request may exceed its limit. */
function validateResources(c: Container, f: string): Causes {
  const causes: Causes = [];
  const { requests = {}, limits = {} } = c.resources ?? {};
  for (const [kind, list] of [
    ["requests", requests],
    ["limits", limits],
  ] as const) {
    for (const [name, value] of Object.entries(list)) {
      const n = parseQuantity(value as string | number);
      const field = `${f}.${kind}[${name}]`;
      if (Number.isNaN(n))
        causes.push(
          invalid(field, value, `quantities must match the regular expression '${QUANTITY_PATTERN}'`),
        );
      else if (n < 0) causes.push(invalid(field, value, "must be greater than or equal to 0"));
    }
  }
  for (const [name, limit] of Object.entries(limits)) {
    const request = (requests as Record<string, unknown>)[name];
    if (request === undefined) continue;
    if (parseQuantity(request as string | number) > parseQuantity(limit as string | number)) {
      causes.push(
        invalid(`${f}.requests`, request, `must be less than or equal to ${name} limit of ${limit}`),
      );
    }
  }
  return causes;
}

function validatePort(p: ContainerPort, f: string, names: Set<string>): Causes {
  const causes: Causes = [];
  if (p.containerPort === undefined) causes.push(required(`${f}.containerPort`));
  else if (!validPort(p.containerPort))
    causes.push(invalid(`${f}.containerPort`, p.containerPort, "must be between 1 and 65535, inclusive"));
  if (p.hostPort !== undefined && p.hostPort !== 0 && !validPort(p.hostPort)) {
    causes.push(invalid(`${f}.hostPort`, p.hostPort, "must be between 1 and 65535, inclusive"));
  }
  if (p.protocol && !PROTOCOLS.includes(p.protocol))
    causes.push(notSupported(`${f}.protocol`, p.protocol, PROTOCOLS));
  if (p.name) {
    if (names.has(p.name)) causes.push(duplicate(`${f}.name`, p.name));
    for (const e of portName(p.name)) causes.push(invalid(`${f}.name`, p.name, e));
    names.add(p.name);
  }
  return causes;
}

function validateProbe(p: Probe, f: string): Causes {
  const causes: Causes = [];
  const handlers = [p.exec, p.httpGet, p.tcpSocket, p.grpc].filter(Boolean).length;
  if (handlers === 0) causes.push(required(f, "must specify a handler type"));
  if (handlers > 1)
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: may not specify more than 1 handler type",
      field: f,
    });
  for (const k of ["periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"] as const) {
    const v = p[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      causes.push(invalid(`${f}.${k}`, v, "must be greater than or equal to 1"));
  }
  if (p.initialDelaySeconds !== undefined && p.initialDelaySeconds < 0) {
    causes.push(
      invalid(`${f}.initialDelaySeconds`, p.initialDelaySeconds, "must be greater than or equal to 0"),
    );
  }
  return causes;
}

export function validPort(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}
