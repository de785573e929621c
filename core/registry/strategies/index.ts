import type { Strategy } from "../strategy.ts";
import { hpaStrategy, pdbStrategy } from "./autoscaling-policy.ts";
import { controllerRevisionStrategy } from "./controller-revision.ts";
import { cronJobStrategy } from "./cronjob.ts";
import { customResourceDefinitionStrategy } from "./customresourcedefinition.ts";
import { daemonSetStrategy } from "./daemonset.ts";
import { deploymentStrategy } from "./deployment.ts";
import { configMapStrategy, genericStrategy, nodeStrategy, specLessStrategy } from "./generic.ts";
import { ingressClassStrategy, ingressStrategy } from "./ingress.ts";
import { jobStrategy } from "./job.ts";
import { namespaceStrategy } from "./namespace.ts";
import { networkPolicyStrategy } from "./network-policy.ts";
import { podStrategy } from "./pod.ts";
import {
  limitRangeStrategy,
  podTemplateStrategy,
  priorityClassStrategy,
  resourceQuotaStrategy,
  runtimeClassStrategy,
} from "./policy-kinds.ts";
import {
  clusterRoleBindingStrategy,
  clusterRoleStrategy,
  roleBindingStrategy,
  roleStrategyNamespaced,
} from "./rbac.ts";
import { replicaSetStrategy } from "./replicaset.ts";
import { secretStrategy } from "./secret.ts";
import { serviceStrategy } from "./service.ts";
import { statefulSetStrategy } from "./statefulset.ts";
import { persistentVolumeClaimStrategy, persistentVolumeStrategy, storageClassStrategy } from "./storage.ts";

/** Strategy per store key (see resourceKey in core/resources.ts). */
const STRATEGIES: Record<string, Strategy> = {
  namespaces: namespaceStrategy,
  nodes: nodeStrategy,
  pods: podStrategy,
  services: serviceStrategy,
  endpoints: specLessStrategy,
  events: specLessStrategy,
  configmaps: configMapStrategy,
  secrets: secretStrategy,
  serviceaccounts: specLessStrategy,
  "deployments.apps": deploymentStrategy,
  "replicasets.apps": replicaSetStrategy,
  "endpointslices.discovery.k8s.io": specLessStrategy,
  "horizontalpodautoscalers.autoscaling": hpaStrategy,
  "poddisruptionbudgets.policy": pdbStrategy,
  "networkpolicies.networking.k8s.io": networkPolicyStrategy,
  persistentvolumes: persistentVolumeStrategy,
  persistentvolumeclaims: persistentVolumeClaimStrategy,
  "storageclasses.storage.k8s.io": storageClassStrategy,
  "ingresses.networking.k8s.io": ingressStrategy,
  "ingressclasses.networking.k8s.io": ingressClassStrategy,
  "statefulsets.apps": statefulSetStrategy,
  "daemonsets.apps": daemonSetStrategy,
  "controllerrevisions.apps": controllerRevisionStrategy,
  "jobs.batch": jobStrategy,
  "cronjobs.batch": cronJobStrategy,
  "roles.rbac.authorization.k8s.io": roleStrategyNamespaced,
  "clusterroles.rbac.authorization.k8s.io": clusterRoleStrategy,
  "rolebindings.rbac.authorization.k8s.io": roleBindingStrategy,
  "clusterrolebindings.rbac.authorization.k8s.io": clusterRoleBindingStrategy,
  "customresourcedefinitions.apiextensions.k8s.io": customResourceDefinitionStrategy,
  podtemplates: podTemplateStrategy,
  limitranges: limitRangeStrategy,
  resourcequotas: resourceQuotaStrategy,
  "priorityclasses.scheduling.k8s.io": priorityClassStrategy,
  "runtimeclasses.node.k8s.io": runtimeClassStrategy,
};

export function strategyFor(resource: string): Strategy {
  return STRATEGIES[resource] ?? genericStrategy;
}
