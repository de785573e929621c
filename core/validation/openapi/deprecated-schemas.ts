import { apiVersionOfDeprecated, DEPRECATED_VERSIONS } from "../../deprecated-versions.ts";

type Schemas = Record<string, Record<string, unknown>>;

/** The apps/v1 types a Deployment is made of; each deprecated version gets its own copy. */
const FAMILY = [
  "Deployment",
  "DeploymentSpec",
  "DeploymentStatus",
  "DeploymentStrategy",
  "DeploymentCondition",
  "RollingUpdateDeployment",
];
const STORED_PREFIX = "io.k8s.api.apps.v1.";

/**
 * The component schemas plus those of the deprecated Deployment versions
 * (`io.k8s.api.extensions.v1beta1.Deployment`, …): copies of the apps/v1 ones, with
 * `spec.rollbackTo` where the version had it, so OpenAPI v2/v3 documents and `kubectl explain`
 * cover them.
 */
export function withDeprecatedSchemas(schemas: Schemas): Schemas {
  const out: Schemas = { ...schemas };
  for (const v of DEPRECATED_VERSIONS) {
    const prefix = `io.k8s.api.${v.info.group}.${v.info.version}.`;
    const rename = (text: string) =>
      text.replace(
        new RegExp(`#/components/schemas/${STORED_PREFIX.replaceAll(".", "\\.")}(${FAMILY.join("|")})"`, "g"),
        `#/components/schemas/${prefix}$1"`,
      );
    for (const name of FAMILY) {
      const source = schemas[STORED_PREFIX + name];
      if (!source) continue;
      out[prefix + name] = JSON.parse(rename(JSON.stringify(source)));
    }
    const root = out[`${prefix}Deployment`];
    if (root) {
      root.description = `DEPRECATED - This group version of Deployment is deprecated by ${v.storedAs}/Deployment. See the release notes for more information. ${root.description ?? ""}`;
      root["x-kubernetes-group-version-kind"] = [
        { group: v.info.group, version: v.info.version, kind: v.info.kind },
      ];
    }
    const spec = out[`${prefix}DeploymentSpec`] as { properties?: Record<string, unknown> } | undefined;
    if (v.rollbackTo && spec?.properties) {
      out[`${prefix}RollbackConfig`] = {
        description: `DEPRECATED. ${apiVersionOfDeprecated(v)} RollbackConfig.`,
        type: "object",
        properties: {
          revision: {
            description: "The revision to rollback to. If set to 0, rollback to the last revision.",
            type: "integer",
            format: "int64",
          },
        },
      };
      spec.properties = {
        ...spec.properties,
        rollbackTo: {
          description:
            "DEPRECATED. The config this deployment is rolling back to. Will be cleared after rollback is done.",
          allOf: [{ $ref: `#/components/schemas/${prefix}RollbackConfig` }],
        },
      };
    }
  }
  return out;
}
