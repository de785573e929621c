import { CLUSTER_DOMAIN } from "../core/config.ts";
import { KUBERNETES_SERVICE } from "../core/controllers/kubernetes-service-controller.ts";
import { firstHost, formatIPv4, parseCidr } from "../core/network/cidr.ts";

/**
 * How pods reach the API: the `kubernetes` Service's IP (the first of the service range), which
 * the service proxy sends to the listener on the bridge address; the serving certificate must
 * name both, and the Service's DNS names, for in-cluster clients to trust it.
 */
export function inClusterApi(serviceCidr: string, podGateway: string | undefined) {
  const clusterIP = formatIPv4(firstHost(parseCidr(serviceCidr)));
  const { name, namespace } = KUBERNETES_SERVICE;
  const certHosts = [
    clusterIP,
    ...(podGateway ? [podGateway] : []),
    name,
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
  return { clusterIP, certHosts };
}
