import { controllerRevisionPrinter, daemonSetPrinter, statefulSetPrinter } from "./apps-workloads.ts";
import { configMapPrinter } from "./configmaps.ts";
import { cronJobPrinter } from "./cronjobs.ts";
import { defaultPrinter } from "./default.ts";
import { deploymentPrinter } from "./deployments.ts";
import { endpointsPrinter } from "./endpoints.ts";
import { endpointSlicePrinter } from "./endpointslices.ts";
import { eventPrinter } from "./events.ts";
import { horizontalPodAutoscalerPrinter } from "./horizontalpodautoscalers.ts";
import { ingressClassPrinter, ingressPrinter } from "./ingresses.ts";
import { jobPrinter } from "./jobs.ts";
import { leasePrinter } from "./leases.ts";
import { namespacePrinter } from "./namespaces.ts";
import { networkPolicyPrinter } from "./networkpolicies.ts";
import { nodePrinter } from "./nodes.ts";
import { podDisruptionBudgetPrinter } from "./poddisruptionbudgets.ts";
import { podPrinter } from "./pods.ts";
import {
  limitRangePrinter,
  podTemplatePrinter,
  priorityClassPrinter,
  resourceQuotaPrinter,
  runtimeClassPrinter,
} from "./policy-kinds.ts";
import type { Printer } from "./printer.ts";
import { bindingPrinter } from "./rbac.ts";
import { replicaSetPrinter } from "./replicasets.ts";
import { secretPrinter } from "./secrets.ts";
import { serviceAccountPrinter } from "./serviceaccounts.ts";
import { servicePrinter } from "./services.ts";
import { persistentVolumeClaimPrinter, persistentVolumePrinter, storageClassPrinter } from "./storage.ts";

export { humanDuration } from "./human-duration.ts";
export type { ColumnDefinition, Printer } from "./printer.ts";

/** Printers by store key (`pods`, `deployments.apps`); the CLI reads tables built from these. */
const PRINTERS: Record<string, Printer> = {
  pods: podPrinter,
  "deployments.apps": deploymentPrinter,
  "replicasets.apps": replicaSetPrinter,
  services: servicePrinter,
  namespaces: namespacePrinter,
  nodes: nodePrinter,
  events: eventPrinter,
  configmaps: configMapPrinter,
  secrets: secretPrinter,
  endpoints: endpointsPrinter,
  serviceaccounts: serviceAccountPrinter,
  "endpointslices.discovery.k8s.io": endpointSlicePrinter,
  "horizontalpodautoscalers.autoscaling": horizontalPodAutoscalerPrinter,
  "poddisruptionbudgets.policy": podDisruptionBudgetPrinter,
  "networkpolicies.networking.k8s.io": networkPolicyPrinter,
  persistentvolumes: persistentVolumePrinter,
  persistentvolumeclaims: persistentVolumeClaimPrinter,
  "storageclasses.storage.k8s.io": storageClassPrinter,
  "ingresses.networking.k8s.io": ingressPrinter,
  "ingressclasses.networking.k8s.io": ingressClassPrinter,
  "statefulsets.apps": statefulSetPrinter,
  "daemonsets.apps": daemonSetPrinter,
  "controllerrevisions.apps": controllerRevisionPrinter,
  "jobs.batch": jobPrinter,
  "cronjobs.batch": cronJobPrinter,
  "leases.coordination.k8s.io": leasePrinter,
  "rolebindings.rbac.authorization.k8s.io": bindingPrinter,
  "clusterrolebindings.rbac.authorization.k8s.io": bindingPrinter,
  podtemplates: podTemplatePrinter,
  limitranges: limitRangePrinter,
  resourcequotas: resourceQuotaPrinter,
  "priorityclasses.scheduling.k8s.io": priorityClassPrinter,
  "runtimeclasses.node.k8s.io": runtimeClassPrinter,
};

export function printerFor(resource: string): Printer {
  return PRINTERS[resource] ?? defaultPrinter;
}
