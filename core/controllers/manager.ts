import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { createEventRecorder, type EventRecorder } from "../events.ts";
import { type Clock, systemClock } from "../loop/clock.ts";
import type { Client } from "../seams/client.ts";
import type { LocalVolumes } from "../seams/local-volumes.ts";
import { createClusterRoleAggregationController } from "./clusterrole-aggregation-controller.ts";
import type { Controller, ControllerContext } from "./controller.ts";
import { createCrdController } from "./crd-controller.ts";
import { createCronJobController } from "./cronjob-controller.ts";
import { createDaemonSetController } from "./daemonset-controller.ts";
import { createDeploymentController } from "./deployment-controller.ts";
import { createDisruptionController } from "./disruption-controller.ts";
import { createEndpointsController } from "./endpoints-controller.ts";
import { createEventTtlController, type EventTtlOptions } from "./event-ttl-controller.ts";
import { createGarbageCollector } from "./garbage-collector.ts";
import type { HostInfoSource } from "./host-info.ts";
import { createHpaController, type PodMetrics } from "./hpa-controller.ts";
import { createInformers } from "./informer.ts";
import { createJobController } from "./job-controller.ts";
import { type ApiEndpoint, createKubernetesServiceController } from "./kubernetes-service-controller.ts";
import { createNamespaceController } from "./namespace-controller.ts";
import { createNodeController, type RuntimeReadiness } from "./node-controller.ts";
import { createNodeIpamController } from "./node-ipam-controller.ts";
import { createNodeLifecycleController } from "./node-lifecycle-controller.ts";
import { createPersistentVolumeController } from "./persistent-volume-controller.ts";
import { createReplicaSetController } from "./replicaset-controller.ts";
import { createResourceQuotaController } from "./resource-quota-controller.ts";
import { createRootCaPublisher } from "./root-ca-publisher.ts";
import { createScheduler } from "./scheduler.ts";
import { createServiceAccountsController } from "./serviceaccounts-controller.ts";
import { createStatefulSetController } from "./statefulset-controller.ts";
import { createTaintEvictionController } from "./taint-eviction-controller.ts";
import { createTokenSecretsController } from "./token-secrets-controller.ts";

export type ControllerName =
  | "deployment"
  | "replicaset"
  | "scheduler"
  | "node"
  | "garbage-collector"
  | "namespace"
  | "event-ttl"
  | "endpoints"
  | "horizontal-pod-autoscaler"
  | "disruption"
  | "persistentvolume"
  | "statefulset"
  | "daemonset"
  | "job"
  | "cronjob"
  | "serviceaccount"
  | "root-ca-cert-publisher"
  | "clusterrole-aggregation"
  | "kubernetes-service"
  | "tokens"
  | "taint-eviction"
  | "customresourcedefinition"
  | "resourcequota"
  | "node-ipam"
  | "node-lifecycle";

export interface ControllerManagerOptions {
  client: Client;
  /**
   * Where Events go: one recorder for all, or one per component (`deployment-controller`,
   * `default-scheduler`, …). Default: core/events.ts through `client`, per component.
   */
  events?: EventRecorder | ((component: string) => EventRecorder);
  /** The Node object this machine is published as. */
  nodeName: string;
  hostInfo: HostInfoSource;
  /** CPU usage per pod for the HPA (wired to the runtime's cgroup stats). */
  metrics?: PodMetrics;
  /** How often each HPA is evaluated (default 15 s). */
  hpaSyncPeriodMs?: number;
  clock?: Clock;
  /** Controllers to leave off (k3s-style `--disable`). */
  disabled?: ControllerName[];
  /** Run only these (a joined node runs just its `node` controller and the network's `extra`). */
  only?: ControllerName[];
  /** False on a joined node: its Node carries no control-plane role label. */
  controlPlane?: boolean;
  eventTtl?: EventTtlOptions;
  /** Node heartbeat period (default 10 s). */
  nodeHeartbeatMs?: number;
  /**
   * False when there is no container runtime (the node is NotReady and pods stay Pending), or the
   * node's health checks with the reason they fail.
   */
  runtimeReady?: () => RuntimeReadiness | Promise<RuntimeReadiness>;
  log?: (message: string) => void;
  /** The node's volume directories for the local-path provisioner (none: no dynamic provisioning). */
  localVolumes?: LocalVolumes;
  /** PEM of the CA that signs the API's serving certificate, published as kube-root-ca.crt. */
  rootCaPem?: string;
  /** The `default/kubernetes` Service and where it leads (pods' way to the API); none without it. */
  kubernetesService?: ApiEndpoint;
  /** Signs the tokens of legacy `kubernetes.io/service-account-token` Secrets (with rootCaPem). */
  tokens?: Pick<ServiceAccountTokens, "issueLegacy">;
  /**
   * More controllers over the same shared caches, started with the built-in ones (the lead wires
   * the network's service proxy this way, so it sees the same informers).
   */
  extra?: (ctx: ControllerContext) => Record<string, Controller>;
  /**
   * Joined nodes' pod ranges are carved from this (`minik up --cluster-cidr`); the server's own
   * node keeps `ownPodCidr`, the range its bridge has. None: no node IPAM.
   */
  clusterCidr?: string;
  ownPodCidr?: string;
  /** How long a joined node may stay silent before it is NotReady (default 40 s). */
  nodeMonitorGracePeriodMs?: number;
}

export interface ControllerManager {
  /** The running controllers by name (tests call `reconcile` on them directly). */
  controllers: Partial<Record<ControllerName, Controller>>;
  stop(): Promise<void>;
}

/**
 * Starts minik's controllers over shared caches: fills every cache (list + watch), then starts
 * the workers. Each controller can be switched off.
 */
export async function startControllers(options: ControllerManagerOptions): Promise<ControllerManager> {
  const { client, nodeName } = options;
  const log = options.log ?? ((m: string) => console.error(m));
  const informers = createInformers(client, {
    onError: (r, e) => log(`watching ${r}: ${e instanceof Error ? e.message : e}`),
  });
  const ctx: ControllerContext = {
    client,
    informers,
    events: recorders(options.events, client, nodeName),
    clock: options.clock ?? systemClock,
    log,
  };
  const disabled = new Set(options.disabled ?? []);
  const factories: Record<ControllerName, () => Controller> = {
    node: () =>
      createNodeController(ctx, {
        nodeName,
        hostInfo: options.hostInfo,
        heartbeatMs: options.nodeHeartbeatMs,
        runtimeReady: options.runtimeReady,
        controlPlane: options.controlPlane,
      }),
    scheduler: () => createScheduler(ctx, { nodeName }),
    replicaset: () => createReplicaSetController(ctx),
    deployment: () => createDeploymentController(ctx),
    "garbage-collector": () => createGarbageCollector(ctx),
    namespace: () => createNamespaceController(ctx),
    "event-ttl": () => createEventTtlController(ctx, options.eventTtl),
    endpoints: () => createEndpointsController(ctx),
    "horizontal-pod-autoscaler": () =>
      createHpaController(ctx, { metrics: options.metrics, syncPeriodMs: options.hpaSyncPeriodMs }),
    disruption: () => createDisruptionController(ctx),
    statefulset: () => createStatefulSetController(ctx),
    daemonset: () => createDaemonSetController(ctx),
    persistentvolume: () =>
      createPersistentVolumeController(ctx, { nodeName, volumes: options.localVolumes }),
    job: () => createJobController(ctx),
    cronjob: () => createCronJobController(ctx),
    serviceaccount: () => createServiceAccountsController(ctx),
    "root-ca-cert-publisher": () => createRootCaPublisher(ctx, { caPem: options.rootCaPem ?? "" }),
    "clusterrole-aggregation": () => createClusterRoleAggregationController(ctx),
    "kubernetes-service": () => createKubernetesServiceController(ctx, options.kubernetesService!),
    tokens: () =>
      createTokenSecretsController(ctx, { tokens: options.tokens!, caPem: options.rootCaPem ?? "" }),
    "taint-eviction": () => createTaintEvictionController(ctx),
    customresourcedefinition: () => createCrdController(ctx),
    resourcequota: () => createResourceQuotaController(ctx),
    "node-ipam": () =>
      createNodeIpamController(ctx, {
        clusterCidr: options.clusterCidr!,
        ownNode: options.ownPodCidr ? { name: nodeName, podCidr: options.ownPodCidr } : undefined,
      }),
    "node-lifecycle": () =>
      createNodeLifecycleController(ctx, {
        ownNode: nodeName,
        gracePeriodMs: options.nodeMonitorGracePeriodMs,
      }),
  };
  const controllers: Partial<Record<ControllerName, Controller>> = {};
  if (!options.rootCaPem) disabled.add("root-ca-cert-publisher");
  if (!options.kubernetesService) disabled.add("kubernetes-service");
  if (!options.tokens) disabled.add("tokens");
  if (!options.clusterCidr) disabled.add("node-ipam");
  for (const [name, make] of Object.entries(factories) as [ControllerName, () => Controller][]) {
    if (!disabled.has(name) && (!options.only || options.only.includes(name))) controllers[name] = make();
  }
  const extra = options.extra?.(ctx) ?? {};
  await informers.start();
  for (const c of Object.values(controllers)) c.start();
  for (const c of Object.values(extra)) c.start();
  controllers.node?.enqueue(nodeName);
  controllers["event-ttl"]?.enqueue("sweep");
  return {
    controllers,
    async stop() {
      informers.stop();
      await Promise.all([...Object.values(controllers), ...Object.values(extra)].map((c) => c.stop()));
    },
  };
}

function recorders(
  events: ControllerManagerOptions["events"],
  client: Client,
  host: string,
): (component: string) => EventRecorder {
  if (typeof events === "function") return events;
  if (events) return () => events;
  const byComponent = new Map<string, EventRecorder>();
  return (component) => {
    const recorder = byComponent.get(component) ?? createEventRecorder(client, component, host);
    byComponent.set(component, recorder);
    return recorder;
  };
}
