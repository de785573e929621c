import type { Strategy } from "../strategy.ts";
import { hpaStrategy, pdbStrategy } from "./autoscaling-policy.ts";
import { customResourceDefinitionStrategy } from "./customresourcedefinition.ts";
import { deploymentStrategy } from "./deployment.ts";
import { configMapStrategy, genericStrategy, nodeStrategy, specLessStrategy } from "./generic.ts";
import { namespaceStrategy } from "./namespace.ts";
import { podStrategy } from "./pod.ts";
import { replicaSetStrategy } from "./replicaset.ts";
import { secretStrategy } from "./secret.ts";
import { serviceStrategy } from "./service.ts";

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
  "customresourcedefinitions.apiextensions.k8s.io": customResourceDefinitionStrategy,
};

export function strategyFor(resource: string): Strategy {
  return STRATEGIES[resource] ?? genericStrategy;
}
