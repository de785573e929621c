/**
 * The node half, shared by `minik up` (beside the control plane, over the in-process registry)
 * and `minik agent` (a joined node, over HTTP): network, image store, crun runtime and the agent
 * that drives them.
 */

import { join } from "node:path";
import type { Pod, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import { createNodeAgent, type NodeAgent } from "../core/agent/agent.ts";
import { CLUSTER_DOMAIN } from "../core/config.ts";
import { createEventRecorder } from "../core/events.ts";
import { parseQuantity } from "../core/quantity.ts";
import type { Client } from "../core/seams/client.ts";
import type { ImageService } from "../core/seams/image-service.ts";
import type { LocalVolumes } from "../core/seams/local-volumes.ts";
import type { CrunRuntime } from "../runtime/crun/crun-runtime.ts";
import { dialPod } from "../runtime/net/dial.ts";
import type { NodeNetwork, NodeNetworkNames } from "../runtime/net/node-network.ts";
import { UsageError } from "./usage-error.ts";

export interface NodeParts {
  agent: NodeAgent;
  runtime: CrunRuntime;
  network: NodeNetwork;
  images: ImageService;
  volumes: LocalVolumes;
}

export interface NodeInputs {
  dataDir: string;
  client: Client;
  nodeName: string;
  podCidr: string;
  serviceCidr: string;
  /** Every node's pods: routed to the other nodes, not isolated (several nodes). */
  clusterCidr?: string;
  /** Bridge, nft table and namespace prefixes: a second node on one machine needs its own. */
  names?: NodeNetworkNames;
  registryMirror?: string | string[];
  nodeportAddress?: string;
  /** The kubelet's containerLogMaxSize / containerLogMaxFiles (`--container-log-max-*`). */
  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  /** The token a projected serviceAccountToken volume gets (TokenRequest, in process or over HTTP). */
  serviceAccountToken: (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;
  log: (m: string) => void;
  step: <T>(what: string, fn: () => T | Promise<T>) => Promise<T>;
}

export async function startNode(inputs: NodeInputs): Promise<NodeParts> {
  const { dataDir, client, nodeName, log, step } = inputs;
  // loaded lazily: a control-plane-only minik never touches them
  const { createNodeNetwork } = await import("../runtime/net/node-network.ts");
  const { createImageStore } = await import("../runtime/image/image-store.ts");
  const { createImageService } = await import("../runtime/image/image-service.ts");
  const { loadRegistriesConfig, withMirrorFlags } = await import("../runtime/image/registries-config.ts");
  const { createCrunRuntime } = await import("../runtime/crun/crun-runtime.ts");
  const { createLocalPathVolumes, STORAGE_DIR } = await import("../runtime/storage/local-path-volumes.ts");

  const network = await step(`setting up the pod network (${inputs.podCidr})`, () =>
    createNodeNetwork({
      dataDir,
      podCidr: inputs.podCidr,
      serviceCidr: inputs.serviceCidr,
      clusterCidr: inputs.clusterCidr,
      nodePortAddresses: [inputs.nodeportAddress ?? "127.0.0.1"],
      ...inputs.names,
      log,
    }),
  );
  const registries = await step("reading registries.yaml", () =>
    withMirrorFlags(
      loadRegistriesConfig(join(dataDir, "registries.yaml")),
      ([] as string[]).concat(inputs.registryMirror ?? []),
    ),
  );
  const imageStore = createImageStore({ root: join(dataDir, "images"), registries });
  const runtime = createCrunRuntime({
    dataDir,
    images: imageStore,
    network: network.podNetwork,
    log,
    ...containerLogLimits(inputs),
  });
  await step("starting the container runtime (crun)", () => runtime.start());
  const pods = await client.list("pods");
  await step("cleaning up pod networks of deleted pods", () =>
    network.podNetwork.reconcile(pods.items.map((p) => p.metadata.uid!).filter(Boolean)),
  );
  const agent = createNodeAgent({
    client,
    dial: dialPod,
    runtime,
    nodeName,
    events: createEventRecorder(client, "kubelet", nodeName),
    clusterDns: { nameserver: network.dnsAddress, searchDomain: CLUSTER_DOMAIN },
    serviceAccountToken: inputs.serviceAccountToken,
    log,
  });
  const volumes = createLocalPathVolumes(join(dataDir, STORAGE_DIR));
  return { agent, runtime, network, images: createImageService(imageStore, runtime), volumes };
}

/** `--bridge`, `--nft-table`, `--netns-prefix`: what lets two nodes share one machine. */
/** The kubelet's containerLogMaxSize / containerLogMaxFiles, checked as the kubelet checks them. */
export function containerLogLimits(opts: { containerLogMaxSize?: string; containerLogMaxFiles?: number }): {
  maxLogBytes?: number;
  maxLogFiles?: number;
} {
  const out: { maxLogBytes?: number; maxLogFiles?: number } = {};
  if (opts.containerLogMaxSize !== undefined) {
    const bytes = parseQuantity(String(opts.containerLogMaxSize));
    if (!Number.isFinite(bytes) || bytes < 1024)
      throw new UsageError(
        `invalid --container-log-max-size "${opts.containerLogMaxSize}": use a quantity of at least 1Ki, e.g. 10Mi`,
      );
    out.maxLogBytes = Math.ceil(bytes);
  }
  if (opts.containerLogMaxFiles !== undefined) {
    const files = Number(opts.containerLogMaxFiles);
    if (!Number.isInteger(files) || files < 2)
      throw new UsageError(
        `invalid --container-log-max-files "${opts.containerLogMaxFiles}": must be a whole number greater than 1`,
      );
    out.maxLogFiles = files;
  }
  return out;
}

export interface NodeNetworkFlags {
  bridge?: string;
  nftTable?: string;
  netnsPrefix?: string;
}

export function nodeNetworkNames(flags: NodeNetworkFlags): NodeNetworkNames {
  for (const [flag, value, max] of [
    ["--bridge", flags.bridge, 15],
    ["--nft-table", flags.nftTable, 32],
    ["--netns-prefix", flags.netnsPrefix, 20],
  ] as const) {
    if (value !== undefined && !new RegExp(`^[a-z0-9][a-z0-9-]{0,${max - 1}}$`).test(String(value)))
      throw new UsageError(
        `invalid ${flag} "${value}": use lower-case letters, digits and dashes, at most ${max} characters`,
      );
  }
  return { bridge: flags.bridge, table: flags.nftTable, netnsPrefix: flags.netnsPrefix };
}
