import type { KubeObject } from "../../object.ts";

/** A batch/v1 Job `name` running busybox with restartPolicy Never, plus `spec` fields. */
export function jobManifest(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      template: {
        spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36" }] },
      },
      ...spec,
    },
  };
}

/** A batch/v1 CronJob `name` every five minutes running jobManifest's template, plus `spec` fields. */
export function cronJobManifest(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name },
    spec: { schedule: "*/5 * * * *", jobTemplate: { spec: jobManifest(name).spec }, ...spec },
  };
}
