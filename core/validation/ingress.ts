import type {
  HTTPIngressPath,
  IngressBackend,
  IngressClassParametersReference,
  IngressClassSpec,
  IngressSpec,
  IngressTLS,
} from "kubernetes-types/networking/v1";
import { type Causes, forbidden, immutable, invalid, notSupported, required } from "./causes.ts";
import { dns1035Label, dns1123Label, dns1123Subdomain, portName } from "./names.ts";
import { validPort } from "./pod-spec.ts";

/**
 * Ingress and IngressClass validation, worded as kube-apiserver 1.32's networking validation
 * (pkg/apis/networking/validation) words it, so kubectl prints the same field errors.
 */
export const PATH_TYPES = ["Exact", "Prefix", "ImplementationSpecific"] as const;

const WILDCARD_DNS1123 = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
// Paths kube-apiserver refuses for Exact and Prefix (invalidPathSequences / invalidPathSuffixes).
const BAD_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const BAD_SUFFIXES = ["/..", "/."];

/** A host of a rule or TLS entry: a DNS subdomain or `*.` plus one, never an IP address. */
export function validateIngressHost(host: string, field: string): Causes {
  if (IPV4.test(host) || host.includes(":"))
    return [invalid(field, host, "must be a DNS name, not an IP address")];
  if (host.startsWith("*")) {
    if (host.length <= 253 && WILDCARD_DNS1123.test(host)) return [];
    return [
      invalid(
        field,
        host,
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ),
    ];
  }
  return dns1123Subdomain(host).map((m) => invalid(field, host, m));
}

export function validateIngressSpec(spec: IngressSpec | undefined): Causes {
  if (!spec) return [required("spec")];
  const causes: Causes = [];
  if (!spec.defaultBackend && !spec.rules?.length)
    causes.push(invalid("spec", spec, "either `defaultBackend` or `rules` must be specified"));
  if (spec.defaultBackend) causes.push(...validateBackend(spec.defaultBackend, "spec.defaultBackend"));
  if (spec.ingressClassName)
    for (const m of dns1123Subdomain(spec.ingressClassName))
      causes.push(invalid("spec.ingressClassName", spec.ingressClassName, m));
  for (const [i, rule] of (spec.rules ?? []).entries()) {
    const f = `spec.rules[${i}]`;
    if (rule.host) causes.push(...validateIngressHost(rule.host, `${f}.host`));
    if (!rule.http) continue;
    if (!rule.http.paths?.length) {
      causes.push(required(`${f}.http.paths`));
      continue;
    }
    for (const [j, path] of rule.http.paths.entries())
      causes.push(...validatePath(path, `${f}.http.paths[${j}]`));
  }
  for (const [i, tls] of (spec.tls ?? []).entries()) causes.push(...validateTls(tls, `spec.tls[${i}]`));
  return causes;
}

function validatePath(path: HTTPIngressPath, f: string): Causes {
  const causes: Causes = [];
  const type = path.pathType;
  if (!type) causes.push(required(`${f}.pathType`, "pathType must be specified"));
  else if (!(PATH_TYPES as readonly string[]).includes(type))
    causes.push(notSupported(`${f}.pathType`, type, PATH_TYPES));
  const p = path.path ?? "";
  if (type === "Exact" || type === "Prefix") {
    if (!p.startsWith("/")) causes.push(invalid(`${f}.path`, p, "must be an absolute path"));
    for (const s of BAD_SEQUENCES)
      if (p.includes(s)) causes.push(invalid(`${f}.path`, p, `must not contain '${s}'`));
    for (const s of BAD_SUFFIXES)
      if (p.endsWith(s)) causes.push(invalid(`${f}.path`, p, `cannot end with '${s}'`));
  } else if (p && !p.startsWith("/")) causes.push(invalid(`${f}.path`, p, "must be an absolute path"));
  if (!path.backend) causes.push(required(`${f}.backend`));
  else causes.push(...validateBackend(path.backend, `${f}.backend`));
  return causes;
}

/** Exactly one of service and resource; a service names a port by number or by name, not both. */
export function validateBackend(backend: IngressBackend, f: string): Causes {
  const { service, resource } = backend;
  if (service && resource) return [invalid(f, "", "cannot set both resource and service backends")];
  if (resource) {
    const causes: Causes = [];
    if (!resource.kind) causes.push(required(`${f}.resource.kind`));
    if (!resource.name) causes.push(required(`${f}.resource.name`));
    if (resource.apiGroup === "")
      causes.push(invalid(`${f}.resource.apiGroup`, "", "if set, must be a non-empty value"));
    return causes;
  }
  if (!service) return [invalid(f, "", "resource or service backend is required")];
  const causes: Causes = [];
  if (!service.name) causes.push(required(`${f}.service.name`));
  else for (const m of dns1035Label(service.name)) causes.push(invalid(`${f}.service.name`, service.name, m));
  const name = service.port?.name ?? "";
  const number = service.port?.number ?? 0;
  if (name && number) causes.push(invalid(f, "", "cannot set both port name & port number"));
  else if (name) for (const m of portName(name)) causes.push(invalid(`${f}.service.port.name`, name, m));
  else if (number) {
    if (!validPort(number))
      causes.push(invalid(`${f}.service.port.number`, number, "must be between 1 and 65535, inclusive"));
  } else causes.push(required(f, "port name or number is required"));
  return causes;
}

function validateTls(tls: IngressTLS, f: string): Causes {
  const causes: Causes = [];
  for (const [i, host] of (tls.hosts ?? []).entries())
    causes.push(...validateIngressHost(host, `${f}.hosts[${i}]`));
  if (tls.secretName)
    for (const m of dns1123Subdomain(tls.secretName))
      causes.push(invalid(`${f}.secretName`, tls.secretName, m));
  return causes;
}

const CONTROLLER = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/[^\s]+$/;

/** IngressClass.spec: a domain-prefixed controller (at most 250 characters), optional parameters. */
export function validateIngressClassSpec(spec: IngressClassSpec | undefined): Causes {
  const controller = spec?.controller;
  const causes: Causes = [];
  if (!controller) causes.push(required("spec.controller"));
  else if (controller.length > 250)
    causes.push(invalid("spec.controller", controller, "must be no more than 250 characters"));
  else if (!CONTROLLER.test(controller))
    causes.push(
      invalid("spec.controller", controller, 'must be a domain-prefixed path (such as "acme.io/foo")'),
    );
  if (spec?.parameters) causes.push(...validateParameters(spec.parameters, "spec.parameters"));
  return causes;
}

const SCOPES = ["Cluster", "Namespace"];

function validateParameters(p: IngressClassParametersReference, f: string): Causes {
  const causes: Causes = [];
  if (!p.kind) causes.push(required(`${f}.kind`));
  if (!p.name) causes.push(required(`${f}.name`));
  if (p.apiGroup)
    for (const m of dns1123Subdomain(p.apiGroup)) causes.push(invalid(`${f}.apiGroup`, p.apiGroup, m));
  if (!p.scope) return [...causes, required(`${f}.scope`)];
  if (!SCOPES.includes(p.scope)) return [...causes, notSupported(`${f}.scope`, p.scope, SCOPES)];
  if (p.scope === "Namespace") {
    if (!p.namespace) causes.push(required(`${f}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const m of dns1123Label(p.namespace)) causes.push(invalid(`${f}.namespace`, p.namespace, m));
  } else if (p.namespace !== undefined)
    causes.push(forbidden(`${f}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return causes;
}

/** `spec.controller` may not change (IngressClass update validation). */
export function validateIngressClassUpdate(controller: string | undefined, old: string | undefined): Causes {
  return controller === old ? [] : [immutable("spec.controller", controller)];
}
