/**
 * `minik up`: a page of wiring. Every step says what it was doing when it fails; containers keep
 * running when minik stops (like a kubelet restart) and are adopted when it comes back.
 */

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { createNodeHealth } from "../core/agent/node-health.ts";
import { createApiServer } from "../core/api/app.ts";
import { createDashboardApi, dashboardKinds } from "../core/api/dashboard-api.ts";
import { createSessions } from "../core/api/dashboard-session.ts";
import { createListenersApi, type Listeners } from "../core/api/listeners-api.ts";
import { createMinikApi } from "../core/api/minik-api.ts";
import { createServiceAccountIssuer } from "../core/api/service-account-issuer.ts";
import { ensureBootstrapPolicy } from "../core/auth/bootstrap-policy.ts";
import { podTokenSource } from "../core/auth/pod-token-source.ts";
import { serviceAccountAdmission } from "../core/auth/service-account-admission.ts";
import { createServiceAccountTokens } from "../core/auth/service-account-tokens.ts";
import { createNodeRouter } from "../core/client/node-router.ts";
import {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_POD_CIDR,
  DEFAULT_SERVICE_CIDR,
  defaultDataDir,
  POD_API_PORT,
  paths,
} from "../core/config.ts";
import type { Controller, ControllerContext } from "../core/controllers/controller.ts";
import { createHostInfo } from "../core/controllers/host-info.ts";
import { startLeaderElection } from "../core/controllers/leader-election.ts";
import { startControllers } from "../core/controllers/manager.ts";
import { createPodCpuMetrics } from "../core/controllers/pod-cpu-metrics.ts";
import { systemClock } from "../core/loop/clock.ts";
import { defaultIngressClassAdmission, ensureIngressClass } from "../core/network/ingress-class.ts";
import { createIngressController } from "../core/network/ingress-controller.ts";
import { networkControllers } from "../core/network/network-controllers.ts";
import { createServiceAllocator } from "../core/network/service-allocator.ts";
import { createRegistry } from "../core/registry/registry.ts";
import type { Client } from "../core/seams/client.ts";
import type { LocalVolumes } from "../core/seams/local-volumes.ts";
import { claimCapacityAdmission } from "../core/storage/claim-capacity.ts";
import { redactUrl } from "../core/store/store-errors.ts";
import { OPENAPI_SCHEMAS } from "../core/validation/openapi/schemas.ts";
import { createDashboardPage } from "../web/dashboard-page.ts";
import { type DatastoreOptions, openDatastore } from "./datastore.ts";
import { inClusterApi } from "./in-cluster.ts";
import {
  DEFAULT_INGRESS_HTTP,
  DEFAULT_INGRESS_HTTPS,
  type IngressAddress,
  type NodeIngress,
  parseIngressAddress,
  startNodeIngress,
} from "./ingress.ts";
import { ensureJoinToken } from "./join-token.ts";
import { kubeconfigYaml, mergeIntoUserKubeconfig } from "./kubeconfig.ts";
import { startMemoryTrimmer } from "./memory-trimmer.ts";
import { containerLogLimits, type NodeNetworkFlags, nodeNetworkNames, startNode } from "./node.ts";
import { remoteNodes } from "./node-api.ts";
import { platform } from "./platform/index.ts";
import { isLoopback, serve } from "./serve.ts";
import { ensureServiceAccountKey } from "./service-account-key.ts";
import { ensureServingCert } from "./tls.ts";
import { rememberTlsListen, tlsListenAddress } from "./tls-listen.ts";
import { UsageError } from "./usage-error.ts";

export interface UpOptions extends DatastoreOptions, NodeNetworkFlags {
  listen: string;
  listenTls?: string;
  dataDir?: string;
  anonymous?: boolean;
  writeKubeconfig?: boolean;
  registryMirror?: string | string[];
  runtime?: string;
  podCidr?: string;
  serviceCidr?: string;
  /** Joined nodes' pod ranges come from here (default 10.80.0.0/12, which holds the default --pod-cidr). */
  clusterCidr?: string;
  /** The address other nodes reach this one by (its Node's InternalIP); default: the first non-loopback IPv4. */
  nodeIp?: string;
  nodeportAddress?: string;
  hpaSyncPeriod?: number;
  /** `host:port` or `off` (defaults: 127.0.0.1:80 and :443). */
  ingressHttp?: string;
  ingressHttps?: string;
  maxPods?: number | string;
  /** `release` (default) or `keep`: see cmd/memory-trimmer.ts. */
  idleMemory?: string;
  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  debug?: boolean;
}

export async function up(opts: UpOptions): Promise<void> {
  const started = performance.now();
  const step = stepper(!!opts.debug);
  const dataDir = opts.dataDir ?? defaultDataDir();
  const log = (m: string) => console.error(`minik: ${m}`);
  const [host, port] = splitHostPort(opts.listen);
  // the TLS listener too: anonymous access must not depend on which listener a client picks
  const tlsListenHost = opts.listenTls ? splitHostPort(opts.listenTls)[0] : host;
  for (const h of [host, tlsListenHost]) {
    if (opts.anonymous && !isLoopback(h))
      throw new UsageError(`--anonymous is only allowed on loopback addresses, not ${h}`);
  }

  const ingressHttp = parseIngressAddress("--ingress-http", opts.ingressHttp ?? DEFAULT_INGRESS_HTTP);
  const ingressHttps = parseIngressAddress("--ingress-https", opts.ingressHttps ?? DEFAULT_INGRESS_HTTPS);

  const runtimeName = opts.runtime ?? (process.getuid?.() === 0 && platform.nodeRuntime ? "crun" : "none");
  if (runtimeName !== "crun" && runtimeName !== "none") {
    throw new UsageError(
      `unknown --runtime "${runtimeName}": use crun, or none for a control plane without containers`,
    );
  }
  if (runtimeName === "crun" && !platform.nodeRuntime) {
    throw new UsageError(
      `the crun runtime needs Bun (its FFI and process API), not ${platform.name}: run \`minik up --runtime none\` under ${platform.name}, or use the compiled binary`,
    );
  }
  const maxPods = maxPodsOf(opts.maxPods);
  const releaseIdleMemory = idleMemoryPolicy(opts.idleMemory);
  containerLogLimits(opts); // refused before anything starts; the node reads them again
  await step("preparing the data directory", () => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const token = await step("reading the API token", () => ensureToken(dataDir, log));
  const store = await step(
    opts.datastoreEndpoint
      ? `connecting to the datastore ${redactUrl(opts.datastoreEndpoint)}`
      : "opening the store",
    () => openDatastore(opts, dataDir),
  );
  const podCidr = opts.podCidr ?? DEFAULT_POD_CIDR;
  const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const allocator = createServiceAllocator({ serviceCidr });
  const tokens = await step("loading the service-account signing key", async () =>
    createServiceAccountTokens({
      signingKeyPem: await ensureServiceAccountKey(dataDir),
      lookup: (resource, namespace, name) => store.get(resource, namespace, name),
    }),
  );
  const tokenMount = serviceAccountAdmission((namespace, name) =>
    store.get("serviceaccounts", namespace, name),
  );
  let localVolumes: LocalVolumes | undefined; // the node's, once it runs
  const registry = createRegistry(store, {
    admit: [
      allocator.admit,
      tokenMount,
      claimCapacityAdmission(
        () => localVolumes,
        () => registry,
      ),
      defaultIngressClassAdmission(() => registry),
    ],
    onDeleted: [allocator.onDeleted],
  });
  await step("creating the system namespaces", () => registry.bootstrap());
  await step("creating the default RBAC roles", () => ensureBootstrapPolicy(registry));
  await step("creating the default IngressClass", () => ensureIngressClass(registry));
  await step("recovering Service allocations", async () =>
    allocator.recover?.((await registry.list("services")).items),
  );
  const nodeName = osHostname().toLowerCase();

  const clusterCidr = opts.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  const node =
    runtimeName === "crun"
      ? await startNode({
          dataDir,
          client: registry,
          nodeName,
          podCidr,
          serviceCidr,
          clusterCidr,
          names: nodeNetworkNames(opts),
          registryMirror: opts.registryMirror,
          nodeportAddress: opts.nodeportAddress,
          containerLogMaxSize: opts.containerLogMaxSize,
          containerLogMaxFiles: opts.containerLogMaxFiles,
          serviceAccountToken: podTokenSource(tokens, registry),
          log,
          step,
        })
      : undefined;
  localVolumes = node?.volumes;
  if (!node)
    log(
      platform.nodeRuntime
        ? "no container runtime (--runtime none, or not root): pods stay Pending"
        : `no container runtime (the crun runtime needs Bun, this is ${platform.name}): pods stay Pending`,
    );
  // Ready follows periodic runtime and network checks (NotReady → not-ready taints → eviction)
  const health =
    node &&
    createNodeHealth({
      clock: systemClock,
      checks: { runtime: () => node.runtime.health(), network: () => node.network.health() },
      onChange: (s) => log(s.ready ? "node health checks pass again: Ready" : `node NotReady: ${s.message}`),
    });

  const tlsListen = tlsListenAddress(dataDir, opts.listenTls, [host, port]);
  const [tlsHost, tlsPort] = splitHostPort(tlsListen.address);
  // the bridge gateway (also the pods' nameserver) hosts the API listener for pods
  const podGateway = node?.network.dnsAddress;
  const forPodsApi = inClusterApi(serviceCidr, podGateway);
  const tls = await step("preparing the TLS certificate", () =>
    ensureServingCert(dataDir, [tlsHost, ...forPodsApi.certHosts, ...(opts.nodeIp ? [opts.nodeIp] : [])]),
  );
  const joinToken = await step("writing the node join token", () => ensureJoinToken(dataDir, tls.cert));

  // a node service: without pods there is nothing to route to
  const ingress = node ? await startIngress(ingressHttp, ingressHttps, opts, step, log) : undefined;
  if (ingress) log(`ingress on ${ingress.urls.join(" and ")}`);

  let dnsReady: Promise<void> | undefined;
  const runControllers = () =>
    startControllers({
      client: registry,
      nodeName,
      hostInfo: createHostInfo({
        dataDir,
        containerRuntimeVersion: node?.runtime.version() ?? "none://",
        maxPods,
        internalIP: opts.nodeIp,
      }),
      metrics: node ? createPodCpuMetrics(node.agent.nodeServices) : undefined,
      // without a runtime the node is NotReady, so pods stay Pending (unbound) and can be deleted
      runtimeReady: () => health?.status() ?? false,
      localVolumes,
      hpaSyncPeriodMs: opts.hpaSyncPeriod ? Number(opts.hpaSyncPeriod) * 1000 : undefined,
      clusterCidr,
      ownPodCidr: podCidr,
      rootCaPem: tls.cert,
      tokens,
      kubernetesService: {
        clusterIP: forPodsApi.clusterIP,
        endpoint: podGateway ? { ip: podGateway, port: POD_API_PORT } : undefined,
      },
      log,
      extra: (ctx: ControllerContext): Record<string, Controller> => {
        if (!node) return {};
        const network = networkControllers(ctx, node.network, nodeName);
        dnsReady = network.dnsReady;
        if (!ingress) return network.controllers;
        return {
          ...network.controllers,
          ingress: createIngressController(ctx, ingress.router, ingress.listeners),
        };
      },
    });
  // Servers sharing an etcd or a Postgres database elect one of them to run the cluster's controllers.
  const controllers = opts.datastoreEndpoint
    ? electedControllers(registry, nodeName, runControllers, log)
    : await step("starting controllers", runControllers);
  if (dnsReady) await step("starting cluster DNS", () => dnsReady);
  if (node) await step("starting the node agent", () => node.agent.start());

  const sessions = createSessions(token);
  let listeners: Listeners | undefined;
  // pods of joined nodes are served through their node API, as kube-apiserver calls kubelets
  const nodeServices = createNodeRouter({
    client: registry,
    local: node ? { nodeName, services: node.agent.nodeServices } : undefined,
    remote: remoteNodes(joinToken.secret),
  });
  const app = createApiServer({
    client: registry,
    node: nodeServices,
    auth: {
      token,
      anonymous: opts.anonymous,
      sessions,
      serviceAccounts: tokens,
      nodeSecret: joinToken.secret,
    },
    tokens,
    routes: [
      createMinikApi({ images: node?.images, node: nodeServices }),
      createDashboardApi({ client: registry, sessions }),
      createServiceAccountIssuer(tokens),
      createListenersApi(() => listeners),
    ],
    web: createDashboardPage({ list: (key) => registry.list(key), kinds: dashboardKinds() }),
    schemas: OPENAPI_SCHEMAS,
    log: opts.debug ? log : undefined,
  });

  const http = await step(`listening on ${opts.listen}`, () => serve(app, { hostname: host, port }));
  const https = await step(`listening with TLS on ${tlsListen.address} (from ${tlsListen.from})`, () => {
    try {
      return serve(app, { hostname: tlsHost, port: tlsPort, tls });
    } catch (e) {
      // the port kept from the last start may be taken now: take a free one (and keep that)
      if (tlsListen.from !== "data dir") throw e;
      log(`TLS port ${tlsPort} is taken (${(e as Error).message}); using a free port`);
      return serve(app, { hostname: tlsHost, port: 0, tls });
    }
  });
  rememberTlsListen(dataDir, tlsHost, https.port);
  listeners = { http: http.url, https: https.url, certificate: tls.cert };
  // TLS only and never anonymous: what the kubernetes Service leads pods to
  const forPods = podGateway
    ? await step(`listening for pods on ${podGateway}:${POD_API_PORT}`, () =>
        serve(app, { hostname: podGateway, port: POD_API_PORT, tls }),
      )
    : undefined;

  writeFileSync(paths.serverUrl(dataDir), `${http.url}\n`);
  writeFileSync(paths.kubeconfig(dataDir), kubeconfigYaml(https.url, token, tls.cert), { mode: 0o600 });
  if (opts.writeKubeconfig)
    log(`merged context "minik" into ${mergeIntoUserKubeconfig(https.url, token, tls.cert)}`);

  log(
    `ready in ${Math.round(performance.now() - started)} ms — API ${http.url} (kubectl: ${https.url}, kubeconfig ${paths.kubeconfig(dataDir)})`,
  );
  log(`node ${nodeName}, runtime ${runtimeName}, data dir ${dataDir}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (containers keep running and are adopted on the next start)`);
    await Promise.allSettled([http.stop(), https.stop(), forPods?.stop(), ingress?.listeners.stop()]);
    health?.stop();
    await controllers.stop().catch(() => {});
    await node?.agent.stop().catch(() => {});
    await node?.runtime.close().catch(() => {});
    node?.network.stop();
    await store.close().catch(() => {});
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // A measurement hook: `bun run bench` forces a full collection (free heap pages given back)
  // before it samples memory, so idle and busy figures compare live data, not how far the
  // collector happened to get.
  process.on("SIGUSR2", () => platform.collectGarbage());
  if (releaseIdleMemory) startMemoryTrimmer({ release: platform.releaseMemory, log });
  await new Promise(() => {});
}

/**
 * The ingress listeners. A port given on the command line must be had; the default ports (80,
 * 443) may be taken or need privileges, which costs the node its ingress, not its start.
 */
async function startIngress(
  http: IngressAddress | undefined,
  https: IngressAddress | undefined,
  opts: UpOptions,
  step: Step,
  log: (m: string) => void,
): Promise<NodeIngress | undefined> {
  if (!http && !https) return undefined;
  const what = `starting the ingress on ${[http, https]
    .filter(Boolean)
    .map((a) => `${a!.hostname}:${a!.port}`)
    .join(" and ")}`;
  if (opts.ingressHttp !== undefined || opts.ingressHttps !== undefined)
    return step(what, () => startNodeIngress(http, https));
  try {
    return await step(what, () => startNodeIngress(http, https));
  } catch (e) {
    log(
      `${(e as Error).message}: no ingress (choose free ports with --ingress-http/--ingress-https, or turn it off with "off")`,
    );
    return undefined;
  }
}

type Step = <T>(what: string, fn: () => T | Promise<T>) => Promise<T>;

/** Runs one start-up step; a failure says which step it was (traced with --debug). */
function stepper(trace: boolean): Step {
  return (what, fn) => runStep(what, fn, trace);
}

async function runStep<T>(what: string, fn: () => T | Promise<T>, trace: boolean): Promise<T> {
  if (trace) console.error(`minik: ${what}…`);
  try {
    return await fn();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, "") : "127.0.0.1";
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`invalid listen address "${addr}": use host:port`);
  return [host, port];
}

/**
 * The token is generated on first start and kept (0600) so the CLI and kubeconfig keep working.
 * A token file others could read is put back to 0600, loudly: whoever read it holds the token.
 */
export function ensureToken(dataDir: string, warn: (message: string) => void = () => {}): string {
  const file = paths.token(dataDir);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) {
      chmodSync(file, 0o600);
      warn(
        `the token file ${file} was mode ${mode.toString(8).padStart(4, "0")}; set it back to 0600 (delete it and restart to get a new token if others may have read it)`,
      );
    }
    return readFileSync(file, "utf8").trim();
  }
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * The controllers of a server that shares its datastore: started while this server holds the
 * `kube-system/minik-controllers` Lease, stopped when it loses it, so they run once per cluster.
 */
function electedControllers(
  client: Client,
  nodeName: string,
  run: () => Promise<{ stop(): Promise<void> }>,
  log: (m: string) => void,
): { stop(): Promise<void> } {
  let running: { stop(): Promise<void> } | undefined;
  const election = startLeaderElection({
    leases: {
      get: (r, ns, n) => client.tryGet(r, ns, n),
      create: (r, o) => client.create(r, o),
      update: (r, o) => client.update(r, o),
    },
    identity: `${nodeName}_${randomBytes(4).toString("hex")}`,
    onStartedLeading: async () => {
      running = await run();
    },
    onStoppedLeading: async () => {
      await running?.stop();
      running = undefined;
    },
    log,
  });
  return { stop: () => election.stop() };
}

/** `--max-pods`: a whole number of pods (the pod range and the host bound it in practice). */
function idleMemoryPolicy(value: string | undefined): boolean {
  if (value === undefined || value === "release") return true;
  if (value === "keep") return false;
  throw new UsageError(`--idle-memory ${value}: give release (the default) or keep`);
}

function maxPodsOf(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new UsageError(`invalid --max-pods "${value}": use a whole number from 1 to 10000`);
  return n;
}
