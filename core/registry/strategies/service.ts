import type { Service, ServicePort, ServiceSpec } from "kubernetes-types/core/v1";
import {
  type Causes,
  duplicate,
  forbidden,
  immutable,
  invalid,
  notSupported,
  required,
} from "../../validation/causes.ts";
import { dns1035Label, portName } from "../../validation/names.ts";
import { validateLabels } from "../../validation/object-meta.ts";
import { validPort } from "../../validation/pod-spec.ts";
import { as, type Mutable, type Strategy } from "../strategy.ts";

const TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export const serviceStrategy: Strategy = {
  nameRule: dns1035Label,
  // Services carry no metadata.generation in Kubernetes.
  hasGeneration: false,
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  prepareForUpdate(obj, old) {
    const spec = as<Service>(obj).spec;
    const oldSpec = as<Service>(old).spec;
    if (!spec || !oldSpec) return;
    // An update that leaves out the allocated clusterIP / nodePorts keeps them (kubectl replace).
    if (
      !spec.clusterIP &&
      oldSpec.clusterIP &&
      spec.type !== "ExternalName" &&
      oldSpec.type !== "ExternalName"
    ) {
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs ??= oldSpec.clusterIPs;
      spec.ipFamilies ??= oldSpec.ipFamilies;
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy;
    }
    dropTypeDependentFields(spec, oldSpec);
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) continue;
        const was = oldSpec.ports?.find(
          (o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
        );
        if (was?.nodePort) p.nodePort = was.nodePort;
      }
    }
  },
  defaults(obj) {
    const spec = as<Service>(obj).spec;
    if (spec) defaultServiceSpec(spec);
  },
  validate(obj) {
    return validateServiceSpec(as<Service>(obj).spec);
  },
  validateUpdate(obj, old) {
    const spec = as<Service>(obj).spec;
    const oldSpec = as<Service>(old).spec;
    if (!spec || !oldSpec || spec.type === "ExternalName" || oldSpec.type === "ExternalName") return [];
    if (oldSpec.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
      return [immutable("spec.clusterIP", spec.clusterIP ?? "")];
    return [];
  },
};

const EXTERNAL = ["NodePort", "LoadBalancer"];

/**
 * Switching a Service to a type that has no use for some allocated fields drops them, when the
 * update left them as they were (kubectl apply merges the old values back in): nodePorts and
 * externalTrafficPolicy leaving NodePort/LoadBalancer, the clusterIP when becoming ExternalName.
 */
function dropTypeDependentFields(spec: Mutable<ServiceSpec>, old: ServiceSpec): void {
  const type = spec.type ?? "ClusterIP";
  const oldType = old.type ?? "ClusterIP";
  if (type === oldType) return;
  if (EXTERNAL.includes(oldType) && !EXTERNAL.includes(type)) {
    for (const p of spec.ports ?? []) {
      const was = old.ports?.find(
        (o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
      );
      if (p.nodePort && p.nodePort === was?.nodePort) delete p.nodePort;
    }
    if (spec.externalTrafficPolicy === old.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    if (spec.healthCheckNodePort === old.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (type === "ExternalName" && spec.clusterIP === old.clusterIP) {
    for (const k of [
      "clusterIP",
      "clusterIPs",
      "ipFamilies",
      "ipFamilyPolicy",
      "internalTrafficPolicy",
    ] as const)
      delete spec[k];
  }
}

function defaultServiceSpec(spec: ServiceSpec): void {
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  for (const p of spec.ports ?? []) {
    p.protocol ??= "TCP";
    p.targetPort ??= p.port;
  }
  if (spec.type === "ExternalName") return;
  if (spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
  spec.ipFamilies ??= ["IPv4"];
  spec.ipFamilyPolicy ??= "SingleStack";
  spec.internalTrafficPolicy ??= "Cluster";
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
}

function validateServiceSpec(spec: ServiceSpec | undefined): Causes {
  if (!spec) return [required("spec")];
  const causes: Causes = [];
  const type = spec.type ?? "ClusterIP";
  if (!TYPES.includes(type)) causes.push(notSupported("spec.type", type, TYPES));
  if (type === "ExternalName" && !spec.externalName) causes.push(required("spec.externalName"));
  const headless = spec.clusterIP === "None";
  if (spec.clusterIP && !headless && !IPV4.test(spec.clusterIP)) {
    causes.push(invalid("spec.clusterIP", spec.clusterIP, "must be empty, 'None', or a valid IP address"));
  }
  if (headless && (type === "NodePort" || type === "LoadBalancer")) {
    causes.push(invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`));
  }
  const ports = spec.ports ?? [];
  if (!ports.length && type !== "ExternalName" && !headless) causes.push(required("spec.ports"));
  const names = new Set<string>();
  for (const [i, p] of ports.entries())
    causes.push(...validateServicePort(p, `spec.ports[${i}]`, ports.length, names, type));
  causes.push(...validateLabels(spec.selector, "spec.selector"));
  return causes;
}

function validateServicePort(
  p: ServicePort,
  f: string,
  count: number,
  names: Set<string>,
  type: string,
): Causes {
  const causes: Causes = [];
  if (count > 1 && !p.name) causes.push(required(`${f}.name`));
  if (p.name) {
    if (names.has(p.name)) causes.push(duplicate(`${f}.name`, p.name));
    names.add(p.name);
    for (const e of portName(p.name).filter((m) => !m.startsWith("must contain at least")))
      causes.push(invalid(`${f}.name`, p.name, e));
  }
  if (p.port === undefined) causes.push(required(`${f}.port`));
  else if (!validPort(p.port))
    causes.push(invalid(`${f}.port`, p.port, "must be between 1 and 65535, inclusive"));
  if (p.protocol && !PROTOCOLS.includes(p.protocol))
    causes.push(notSupported(`${f}.protocol`, p.protocol, PROTOCOLS));
  const tp = p.targetPort;
  if (typeof tp === "number" && !validPort(tp))
    causes.push(invalid(`${f}.targetPort`, tp, "must be between 1 and 65535, inclusive"));
  if (typeof tp === "string") {
    if (/^\d+$/.test(tp)) {
      if (!validPort(Number(tp)))
        causes.push(invalid(`${f}.targetPort`, tp, "must be between 1 and 65535, inclusive"));
    } else for (const e of portName(tp)) causes.push(invalid(`${f}.targetPort`, tp, e));
  }
  if (p.nodePort !== undefined && p.nodePort !== 0) {
    if (type !== "NodePort" && type !== "LoadBalancer")
      causes.push(forbidden(`${f}.nodePort`, `may not be used when \`type\` is '${type}'`));
    else if (!validPort(p.nodePort))
      causes.push(invalid(`${f}.nodePort`, p.nodePort, "must be between 1 and 65535, inclusive"));
  }
  return causes;
}
