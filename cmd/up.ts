/**
 * `minik up`: a page of wiring. Every step says what it was doing when it fails; containers keep
 * running when minik stops (like a kubelet restart) and are adopted when it comes back.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { createNodeAgent, type NodeAgent } from "../core/agent/agent.ts";
import { createNodeHealth } from "../core/agent/node-health.ts";
import { createApiServer } from "../core/api/app.ts";
import { createMinikApi } from "../core/api/minik-api.ts";
import {
  CLUSTER_DOMAIN,
  DEFAULT_POD_CIDR,
  DEFAULT_SERVICE_CIDR,
  defaultDataDir,
  paths,
} from "../core/config.ts";
import type { Controller, ControllerContext } from "../core/controllers/controller.ts";
import { createHostInfo } from "../core/controllers/host-info.ts";
import { startControllers } from "../core/controllers/manager.ts";
import { createPodCpuMetrics } from "../core/controllers/pod-cpu-metrics.ts";
import { createEventRecorder } from "../core/events.ts";
import { systemClock } from "../core/loop/clock.ts";
import { networkControllers } from "../core/network/network-controllers.ts";
import { createServiceAllocator } from "../core/network/service-allocator.ts";
import { createRegistry } from "../core/registry/registry.ts";
import type { Client } from "../core/seams/client.ts";
import type { ImageService } from "../core/seams/image-service.ts";
import { createSqlStore } from "../core/store/sql-store.ts";
import { OPENAPI_SCHEMAS } from "../core/validation/openapi/schemas.ts";
import type { CrunRuntime } from "../runtime/crun/crun-runtime.ts";
import { dialPod } from "../runtime/net/dial.ts";
import { createStatusPage } from "../web/status-page.ts";
import { kubeconfigYaml, mergeIntoUserKubeconfig } from "./kubeconfig.ts";
import { isLoopback, serve } from "./serve.ts";
import { ensureServingCert } from "./tls.ts";
import { UsageError } from "./usage-error.ts";

export interface UpOptions {
  listen: string;
  listenTls?: string;
  dataDir?: string;
  anonymous?: boolean;
  writeKubeconfig?: boolean;
  registryMirror?: string | string[];
  runtime?: string;
  podCidr?: string;
  serviceCidr?: string;
  nodeportAddress?: string;
  hpaSyncPeriod?: number;
  debug?: boolean;
}

export async function up(opts: UpOptions): Promise<void> {
  const started = performance.now();
  const step = stepper(!!opts.debug);
  const dataDir = opts.dataDir ?? defaultDataDir();
  const log = (m: string) => console.error(`minik: ${m}`);
  const [host, port] = splitHostPort(opts.listen);
  if (opts.anonymous && !isLoopback(host)) {
    throw new UsageError(`--anonymous is only allowed on a loopback address, not ${host}`);
  }

  await step("preparing the data directory", () => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const token = await step("reading the API token", () => ensureToken(dataDir));
  const store = await step("opening the store", () => createSqlStore({ url: `file:${paths.db(dataDir)}` }));
  const podCidr = opts.podCidr ?? DEFAULT_POD_CIDR;
  const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const allocator = createServiceAllocator({ serviceCidr });
  const registry = createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] });
  await step("creating the system namespaces", () => registry.bootstrap());
  await step("recovering Service allocations", async () =>
    allocator.recover?.((await registry.list("services")).items),
  );
  const nodeName = osHostname().toLowerCase();

  const runtimeName = opts.runtime ?? (process.getuid?.() === 0 ? "crun" : "none");
  if (runtimeName !== "crun" && runtimeName !== "none") {
    throw new UsageError(
      `unknown --runtime "${runtimeName}": use crun, or none for a control plane without containers`,
    );
  }
  const node =
    runtimeName === "crun"
      ? await startNode({ dataDir, client: registry, nodeName, opts, podCidr, serviceCidr, log, step })
      : undefined;
  if (!node) log("no container runtime (--runtime none, or not root): pods stay Pending");
  // Ready follows periodic runtime and network checks (NotReady → not-ready taints → eviction)
  const health =
    node &&
    createNodeHealth({
      clock: systemClock,
      checks: { runtime: () => node.runtime.health(), network: () => node.network.health() },
      onChange: (s) => log(s.ready ? "node health checks pass again: Ready" : `node NotReady: ${s.message}`),
    });

  let dnsReady: Promise<void> | undefined;
  const controllers = await step("starting controllers", () =>
    startControllers({
      client: registry,
      nodeName,
      hostInfo: createHostInfo({ dataDir, containerRuntimeVersion: node?.runtime.version() ?? "none://" }),
      metrics: node ? createPodCpuMetrics(node.agent.nodeServices) : undefined,
      // without a runtime the node is NotReady, so pods stay Pending (unbound) and can be deleted
      runtimeReady: () => health?.status() ?? false,
      hpaSyncPeriodMs: opts.hpaSyncPeriod ? Number(opts.hpaSyncPeriod) * 1000 : undefined,
      log,
      extra: (ctx: ControllerContext): Record<string, Controller> => {
        if (!node) return {};
        const network = networkControllers(ctx, node.network);
        dnsReady = network.dnsReady;
        return network.controllers;
      },
    }),
  );
  if (dnsReady) await step("starting cluster DNS", () => dnsReady);
  if (node) await step("starting the node agent", () => node.agent.start());

  const app = createApiServer({
    client: registry,
    node: node?.agent.nodeServices,
    auth: { token, anonymous: opts.anonymous },
    routes: [createMinikApi({ images: node?.images, node: node?.agent.nodeServices })],
    web: createStatusPage(),
    schemas: OPENAPI_SCHEMAS,
    log: opts.debug ? log : undefined,
  });

  const http = await step(`listening on ${opts.listen}`, () => serve(app, { hostname: host, port }));
  const [tlsHost, tlsPort] = opts.listenTls
    ? splitHostPort(opts.listenTls)
    : [host, port === 7080 ? 7443 : 0];
  const tls = await step("preparing the TLS certificate", () => ensureServingCert(dataDir, [tlsHost]));
  const https = await step(`listening with TLS on ${tlsHost}:${tlsPort}`, () =>
    serve(app, { hostname: tlsHost, port: tlsPort, tls }),
  );

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
    await Promise.allSettled([http.stop(), https.stop()]);
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
  await new Promise(() => {});
}

interface NodeParts {
  agent: NodeAgent;
  runtime: CrunRuntime;
  network: Awaited<ReturnType<typeof import("../runtime/net/node-network.ts")["createNodeNetwork"]>>;
  images: ImageService;
}

/** The node half: network, image store, crun runtime and the agent that drives them. */
interface NodeInputs {
  dataDir: string;
  client: Client;
  nodeName: string;
  opts: UpOptions;
  podCidr: string;
  serviceCidr: string;
  log: (m: string) => void;
  step: Step;
}

async function startNode({
  dataDir,
  client,
  nodeName,
  opts,
  podCidr,
  serviceCidr,
  log,
  step,
}: NodeInputs): Promise<NodeParts> {
  // loaded lazily: a control-plane-only minik never touches them
  const { createNodeNetwork } = await import("../runtime/net/node-network.ts");
  const { createImageStore } = await import("../runtime/image/image-store.ts");
  const { createImageService } = await import("../runtime/image/image-service.ts");
  const { loadRegistriesConfig, withMirrorFlags } = await import("../runtime/image/registries-config.ts");
  const { createCrunRuntime } = await import("../runtime/crun/crun-runtime.ts");

  const network = await step("setting up the pod network", () =>
    createNodeNetwork({
      dataDir,
      podCidr,
      serviceCidr,
      nodePortAddresses: [opts.nodeportAddress ?? "127.0.0.1"],
    }),
  );
  const registries = await step("reading registries.yaml", () =>
    withMirrorFlags(
      loadRegistriesConfig(join(dataDir, "registries.yaml")),
      ([] as string[]).concat(opts.registryMirror ?? []),
    ),
  );
  const imageStore = createImageStore({ root: join(dataDir, "images"), registries });
  const runtime = createCrunRuntime({ dataDir, images: imageStore, network: network.podNetwork, log });
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
    log,
  });
  return { agent, runtime, network, images: createImageService(imageStore, runtime) };
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

/** The token is generated on first start and kept (0600) so the CLI and kubeconfig keep working. */
export function ensureToken(dataDir: string): string {
  const file = paths.token(dataDir);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
