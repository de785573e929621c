import type { KubeObject } from "../../object.ts";
import type { CustomResourceDefinition } from "../types.ts";

/** Test-only: the CronTab CRD of the Kubernetes docs, with status, scale, printer columns and two versions. */
export function cronTabCrd(overrides: { scope?: "Namespaced" | "Cluster" } = {}): CustomResourceDefinition {
  const schema = {
    type: "object",
    properties: {
      spec: {
        type: "object",
        properties: {
          cronSpec: { type: "string", pattern: "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$" },
          image: { type: "string" },
          replicas: { type: "integer", minimum: 1, maximum: 10, default: 1 },
          extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
        required: ["cronSpec"],
      },
      status: {
        type: "object",
        properties: { replicas: { type: "integer" }, labelSelector: { type: "string" } },
      },
    },
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "crontabs.stable.example.com" },
    spec: {
      group: "stable.example.com",
      scope: overrides.scope ?? "Namespaced",
      names: {
        plural: "crontabs",
        singular: "crontab",
        kind: "CronTab",
        shortNames: ["ct"],
        categories: ["all"],
      },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.replicas",
              statusReplicasPath: ".status.replicas",
              labelSelectorPath: ".status.labelSelector",
            },
          },
          additionalPrinterColumns: [
            { name: "Spec", type: "string", jsonPath: ".spec.cronSpec" },
            { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
        },
        { name: "v1beta1", served: true, storage: false, schema: { openAPIV3Schema: schema } },
      ],
    },
  } as CustomResourceDefinition;
}

export function cronTab(
  name: string,
  spec: Record<string, unknown> = {},
  apiVersion = "stable.example.com/v1",
): KubeObject {
  return {
    apiVersion,
    kind: "CronTab",
    metadata: { name },
    spec: { cronSpec: "* * * * */5", image: "my-cron", ...spec },
  };
}
