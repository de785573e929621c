/**
 * `minik agent --server https://HOST:PORT --token-file F`: a node that joins a cluster — kubelet,
 * runtime, pod network, service proxy, DNS and pod routes — against a remote API server over
 * HTTPS, with the node token the server wrote to `<data-dir>/node-token`. A page of wiring, like up.ts.
 */

import { mkdirSync, readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import type { Node } from "kubernetes-types/core/v1";
import { createNodeHealth, type NodeHealth } from "../core/agent/node-health.ts";
import { nodeBearer } from "../core/auth/node-token.ts";
import { createHttpClient, type HttpClientOptions } from "../core/client/http-client.ts";
import { httpPodTokenSource } from "../core/client/http-token-source.ts";
import { DEFAULT_CLUSTER_CIDR, DEFAULT_SERVICE_CIDR, defaultDataDir } from "../core/config.ts";
import { createHostInfo } from "../core/controllers/host-info.ts";
import { startControllers } from "../core/controllers/manager.ts";
import type { Kube } from "../core/controllers/owner-references.ts";
import { isApiError } from "../core/errors.ts";
import { systemClock } from "../core/loop/clock.ts";
import { networkControllers } from "../core/network/network-controllers.ts";
import type { Client } from "../core/seams/client.ts";
import { fetchPinnedCertificate, parseJoinToken } from "./join-token.ts";
import { startMemoryTrimmer } from "./memory-trimmer.ts";
import { type NodeNetworkFlags, type NodeParts, nodeNetworkNames, startNode } from "./node.ts";
import { DEFAULT_NODE_PORT, serveNodeApi } from "./node-api.ts";
import { platform } from "./platform/index.ts";
import { UsageError } from "./usage-error.ts";

export interface AgentOptions extends NodeNetworkFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  dataDir?: string;
  nodeName?: string;
  nodeIp?: string;
  nodePort?: string | number;
  serviceCidr?: string;
  clusterCidr?: string;
  registryMirror?: string | string[];
  nodeportAddress?: string;
  debug?: boolean;
}

/** How long a new node waits for the server's node IPAM to give it a pod range. */
const POD_CIDR_WAIT_MS = 60_000;

export async function agent(opts: AgentOptions): Promise<void> {
  const log = (m: string) => console.error(`minik agent: ${m}`);
  const step = async <T>(what: string, fn: () => T | Promise<T>): Promise<T> => {
    if (opts.debug) log(`${what}…`);
    try {
      return await fn();
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message}`);
    }
  };
  if (!opts.server)
    throw new UsageError("minik agent needs --server https://HOST:PORT (the server's TLS listener)");
  if (!platform.nodeRuntime || process.getuid?.() !== 0)
    throw new UsageError("minik agent runs containers: run it as root with the compiled binary (Bun)");
  const join = parseJoinToken(readToken(opts));
  const names = nodeNetworkNames(opts);
  const dataDir = opts.dataDir ?? defaultDataDir();
  const nodeName = (opts.nodeName ?? osHostname()).toLowerCase();
  const nodePort = parseNodePort(opts.nodePort);
  const server = opts.server.replace(/\/+$/, "");

  await step("preparing the data directory", () => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const ca = await step(`checking the certificate of ${server} against the node token`, () =>
    fetchPinnedCertificate(server, join.caHash),
  );
  const http: HttpClientOptions = {
    server,
    bearer: nodeBearer(nodeName, join.secret),
    // Bun's fetch takes the CA to trust per request; the pinned certificate is the server's own
    fetch: (input, init) => fetch(input, { ...init, tls: { ca } } as RequestInit),
  };
  const client = createHttpClient(http);
  await step(`joining ${server} as node ${nodeName}`, () => checkAccess(client, server));

  let node: NodeParts | undefined;
  let health: NodeHealth | undefined;
  const hostInfo = () =>
    createHostInfo({
      dataDir,
      containerRuntimeVersion: node?.runtime.version() ?? "crun://",
      internalIP: opts.nodeIp,
      hostname: nodeName,
      kubeletPort: nodePort,
    })();
  // Registration and heartbeats first: the server gives the node its pod range once it exists.
  const registration = await step("registering the node", () =>
    startControllers({
      client,
      nodeName,
      hostInfo,
      only: ["node"],
      controlPlane: false,
      runtimeReady: () =>
        health?.status() ?? {
          ready: false,
          message: "waiting for a pod range (spec.podCIDR) from the server",
        },
      log,
    }),
  );
  const podCidr = await step(`waiting for the server to assign node ${nodeName} a pod range`, () =>
    waitForPodCidr(client, nodeName),
  );
  node = await startNode({
    dataDir,
    client,
    nodeName,
    podCidr,
    serviceCidr: opts.serviceCidr ?? DEFAULT_SERVICE_CIDR,
    clusterCidr: opts.clusterCidr ?? DEFAULT_CLUSTER_CIDR,
    names,
    registryMirror: opts.registryMirror,
    nodeportAddress: opts.nodeportAddress,
    serviceAccountToken: httpPodTokenSource(http),
    log,
    step,
  });
  const parts = node;
  health = createNodeHealth({
    clock: systemClock,
    checks: { runtime: () => parts.runtime.health(), network: () => parts.network.health() },
    onChange: (s) => {
      log(s.ready ? "node health checks pass again: Ready" : `node NotReady: ${s.message}`);
      registration.controllers.node?.enqueue(nodeName); // post the new Ready now, not at the next heartbeat
    },
  });
  let dnsReady: Promise<void> | undefined;
  const networking = await step("starting the service proxy, cluster DNS and pod routes", () =>
    startControllers({
      client,
      nodeName,
      hostInfo,
      only: [],
      log,
      extra: (ctx) => {
        const network = networkControllers(ctx, parts.network, nodeName);
        dnsReady = network.dnsReady;
        return network.controllers;
      },
    }),
  );
  if (dnsReady) await step("starting cluster DNS", () => dnsReady);
  await step("starting the node agent", () => parts.agent.start());
  const nodeApiHost = opts.nodeIp ?? (await hostInfo()).internalIP ?? "0.0.0.0";
  const nodeApi = await step(`serving the node API on ${nodeApiHost}:${nodePort}`, () =>
    serveNodeApi({
      client,
      node: parts.agent.nodeServices,
      secret: join.secret,
      hostname: nodeApiHost,
      port: nodePort,
      dataDir,
      nodeName,
    }),
  );
  registration.controllers.node?.enqueue(nodeName);
  log(
    `node ${nodeName} joined ${server}: pods ${podCidr} on bridge ${names.bridge ?? "minik0"}, data dir ${dataDir}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (containers keep running and are adopted on the next start)`);
    health?.stop();
    await within(2000, nodeApi.stop(), "the node API", log);
    // bounded: a stop waiting on an unreachable server must not keep the node from going down
    await within(5000, Promise.allSettled([registration.stop(), networking.stop()]), "controllers", log);
    await within(10_000, parts.agent.stop(), "the node agent", log);
    await within(5000, parts.runtime.close(), "the runtime", log);
    parts.network.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  startMemoryTrimmer({ release: platform.releaseMemory, log });
  await new Promise(() => {});
}

function parseNodePort(value: string | number | undefined): number {
  if (value === undefined || value === "") return DEFAULT_NODE_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--node-port ${value} is not a port: give a number from 1 to 65535 (default 10250)`);
  return port;
}

function readToken(opts: AgentOptions): string {
  if (opts.token && opts.tokenFile) throw new UsageError("give --token or --token-file, not both");
  if (opts.token) return opts.token;
  if (!opts.tokenFile)
    throw new UsageError(
      "minik agent needs --token-file F (or --token T): the server's <data-dir>/node-token",
    );
  try {
    return readFileSync(opts.tokenFile, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read the node token from ${opts.tokenFile}: ${(e as Error).message}`);
  }
}

/** One request that a wrong token fails: said plainly, since nothing else can work without it. */
async function checkAccess(client: Client, server: string): Promise<void> {
  try {
    await client.list("nodes");
  } catch (e) {
    if (isApiError(e, "Unauthorized"))
      throw new Error(
        `${server} refused the node token (401 Unauthorized): copy <data-dir>/node-token from the server again`,
      );
    throw e;
  }
}

async function waitForPodCidr(client: Client, nodeName: string): Promise<string> {
  const deadline = Date.now() + POD_CIDR_WAIT_MS;
  for (;;) {
    const node = await client.tryGet<Kube<Node>>("nodes", "", nodeName);
    const cidr = node?.spec?.podCIDR;
    if (cidr) return cidr;
    if (Date.now() > deadline)
      throw new Error(
        `no spec.podCIDR after ${POD_CIDR_WAIT_MS / 1000} s: is the server's --cluster-cidr full (see \`minik describe node ${nodeName}\`)?`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function within(ms: number, work: Promise<unknown>, what: string, log: (m: string) => void) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log(`stopping ${what} took over ${ms / 1000} s; going on`);
      resolve();
    }, ms);
  });
  await Promise.race([work.catch(() => {}), late]);
  clearTimeout(timer);
}
