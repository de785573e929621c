import type { StatusCause } from "../errors.ts";
import { duplicate, forbidden, immutable, invalid, notSupported, required } from "../validation/causes.ts";
import { dns1035Label, dns1123Label, dns1123Subdomain } from "../validation/names.ts";
import { structuralProblems } from "./structural.ts";
import type { CrdNames, CustomResourceDefinition, JsonSchema } from "./types.ts";

const COLUMN_TYPES = ["integer", "number", "string", "boolean", "date"];

/**
 * apiextensions.k8s.io/v1 rules for a CustomResourceDefinition: name `<plural>.<group>`, names,
 * scope, versions (exactly one storage version, unique names), structural schemas, printer
 * columns and subresources. Conversion webhooks are not supported (None only).
 */
export function validateCrd(crd: CustomResourceDefinition): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = crd.spec ?? ({} as CustomResourceDefinition["spec"]);
  const names = spec.names ?? ({} as CrdNames);
  if (!spec.group) out.push(required("spec.group"));
  else {
    if (dns1123Subdomain(spec.group).length)
      out.push(invalid("spec.group", spec.group, dns1123Subdomain(spec.group).join(", ")));
    if (!spec.group.includes("."))
      out.push(invalid("spec.group", spec.group, "should be a domain with at least one dot"));
  }
  const name = crd.metadata?.name;
  if (name && spec.group && names.plural && name !== `${names.plural}.${spec.group}`)
    out.push(invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'));
  out.push(...validateNames(names));
  if (!spec.scope) out.push(required("spec.scope"));
  else if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    out.push(notSupported("spec.scope", spec.scope, ["Cluster", "Namespaced"]));
  const strategy = spec.conversion?.strategy;
  if (strategy && strategy !== "None") out.push(notSupported("spec.conversion.strategy", strategy, ["None"]));
  if (spec.preserveUnknownFields)
    out.push(
      invalid("spec.preserveUnknownFields", true, "must be false in order to use defaults in the schema"),
    );
  const versions = spec.versions ?? [];
  if (versions.length === 0)
    out.push(required("spec.versions", "must have exactly one version marked as storage version"));
  else if (versions.filter((v) => v.storage).length !== 1)
    out.push(
      invalid(
        "spec.versions",
        versions.map((v) => v.name),
        "must have exactly one version marked as storage version",
      ),
    );
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!v.name) out.push(required(`${at}.name`));
    else if (dns1035Label(v.name).length)
      out.push(invalid(`${at}.name`, v.name, dns1035Label(v.name).join(", ")));
    else if (seen.has(v.name)) out.push(duplicate(`${at}.name`, v.name));
    seen.add(v.name);
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) out.push(required(`${at}.schema.openAPIV3Schema`, "schemas are required"));
    else out.push(...structuralProblems(schema, `${at}.schema.openAPIV3Schema`));
    (v.additionalPrinterColumns ?? []).forEach((c, j) => {
      const col = `${at}.additionalPrinterColumns[${j}]`;
      if (!c.name) out.push(required(`${col}.name`));
      if (!c.jsonPath) out.push(required(`${col}.jsonPath`));
      if (!COLUMN_TYPES.includes(c.type)) out.push(notSupported(`${col}.type`, c.type, COLUMN_TYPES));
    });
    const scale = v.subresources?.scale;
    if (scale) {
      if (!scale.specReplicasPath?.startsWith(".spec."))
        out.push(
          invalid(
            `${at}.subresources.scale.specReplicasPath`,
            scale.specReplicasPath ?? "",
            "should be a json path under .spec",
          ),
        );
      if (!scale.statusReplicasPath?.startsWith(".status."))
        out.push(
          invalid(
            `${at}.subresources.scale.statusReplicasPath`,
            scale.statusReplicasPath ?? "",
            "should be a json path under .status",
          ),
        );
    }
  });
  if (versions.length && !versions.some((v) => v.served))
    out.push(
      invalid(
        "spec.versions",
        versions.map((v) => v.name),
        "must have at least one version marked as served",
      ),
    );
  return out;
}

function validateNames(names: CrdNames): StatusCause[] {
  const out: StatusCause[] = [];
  const label = (field: string, value: string | undefined, need: boolean) => {
    if (!value) {
      if (need) out.push(required(field));
      return;
    }
    const errs = dns1123Label(value);
    if (errs.length) out.push(invalid(field, value, errs.join(", ")));
  };
  label("spec.names.plural", names.plural, true);
  label("spec.names.singular", names.singular, false);
  if (!names.kind) out.push(required("spec.names.kind"));
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind))
    out.push(invalid("spec.names.kind", names.kind, "must be a valid Go identifier of letters and digits"));
  if (names.listKind && names.listKind === names.kind)
    out.push(invalid("spec.names.listKind", names.listKind, "kind and listKind may not be the same"));
  for (const [i, s] of (names.shortNames ?? []).entries()) label(`spec.names.shortNames[${i}]`, s, true);
  for (const [i, s] of (names.categories ?? []).entries()) label(`spec.names.categories[${i}]`, s, true);
  return out;
}

/** What may not change once the CRD exists. */
export function validateCrdUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): StatusCause[] {
  const out: StatusCause[] = [];
  if (crd.spec?.group !== old.spec?.group) out.push(immutable("spec.group", crd.spec?.group));
  if (crd.spec?.scope !== old.spec?.scope) out.push(immutable("spec.scope", crd.spec?.scope));
  const stored = old.status?.storedVersions ?? [];
  for (const v of stored)
    if (!crd.spec?.versions?.some((x) => x.name === v))
      out.push(forbidden("status.storedVersions", `stored version "${v}" must remain in spec.versions`));
  return out;
}

/** What minik accepts but does not do: CEL rules (x-kubernetes-validations) are not evaluated. */
export function crdWarnings(crd: CustomResourceDefinition): string[] {
  const out: string[] = [];
  for (const [i, v] of (crd.spec?.versions ?? []).entries()) {
    const paths: string[] = [];
    const walk = (s: JsonSchema | undefined, path: string) => {
      if (!s || typeof s !== "object") return;
      if (s["x-kubernetes-validations"]?.length) paths.push(path);
      for (const [k, p] of Object.entries(s.properties ?? {})) walk(p, `${path}.properties[${k}]`);
      if (typeof s.additionalProperties === "object")
        walk(s.additionalProperties, `${path}.additionalProperties`);
      walk(s.items, `${path}.items`);
    };
    walk(v.schema?.openAPIV3Schema, `spec.versions[${i}].schema.openAPIV3Schema`);
    for (const p of paths)
      out.push(
        `${p}.x-kubernetes-validations: CEL validation rules are not supported by minik and will not be enforced`,
      );
  }
  return out;
}
