import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1";
import { serve } from "../../cmd/serve.ts";
import { createApiServer } from "../../core/api/app.ts";
import { FakeNodeServices } from "../../core/api/testing/fake-node-services.ts";
import { createSelfSignedCertificate } from "../../core/api/tls-certificate.ts";
import { isApiError } from "../../core/errors.ts";
import { defaultIngressClassAdmission } from "../../core/network/ingress-class.ts";
import { createServiceAllocator } from "../../core/network/service-allocator.ts";
import type { KubeObject } from "../../core/object.ts";
import { createRegistry } from "../../core/registry/registry.ts";
import type { Client } from "../../core/seams/client.ts";
import type { LocalVolumes } from "../../core/seams/local-volumes.ts";
import { createSqlStore } from "../../core/store/sql-store.ts";

/**
 * A real minik API server on 127.0.0.1 (registry over an in-memory store, controllers, a fake
 * kubelet that makes scheduled pods Running/Ready) driven by the real /usr/bin/kubectl with its own
 * kubeconfig and HOME, so kubectl's discovery cache never leaks between runs.
 */
export interface Cluster {
  client: Client;
  node: FakeNodeServices;
  url: string;
  dir: string;
  kubectl(
    args: string[],
    options?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number; command?: string[] },
  ): Promise<Result>;
  /** The minik CLI from source against this server (its CA trusted through NODE_EXTRA_CA_CERTS). */
  minik(args: string[]): Promise<Result>;
  /** Starts kubectl without waiting (get -w, port-forward). */
  spawn(args: string[]): ReturnType<typeof Bun.spawn>;
  write(name: string, text: string): string;
  stop(): Promise<void>;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export const hasKubectl = Bun.which("kubectl") !== null;

export async function startCluster(
  options: { controllers?: boolean; kubelet?: boolean; localVolumes?: LocalVolumes } = {},
): Promise<Cluster> {
  const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const allocator = createServiceAllocator();
  const client = createRegistry(store, {
    admit: [allocator.admit, defaultIngressClassAdmission(() => client)],
    onDeleted: [allocator.onDeleted],
  });
  await client.bootstrap();
  const node = new FakeNodeServices();
  const token = "kubectl-test-token";
  const dir = mkdtempSync(join(tmpdir(), "minik-kubectl-"));
  // kubectl sends the bearer token only over TLS, so serve HTTPS with a throw-away certificate
  const tls = await createSelfSignedCertificate();
  const server = serve(createApiServer({ client, node, auth: { token } }), {
    hostname: "127.0.0.1",
    port: 0,
    tls,
  });
  const stops: (() => Promise<void> | void)[] = [];
  if (options.controllers !== false) {
    const { startControllers } = await import("../../core/controllers/manager.ts");
    const { createHostInfo } = await import("../../core/controllers/host-info.ts");
    const manager = await startControllers({
      client,
      nodeName: "minik",
      hostInfo: createHostInfo({ dataDir: tmpdir() }),
      log: () => {},
      localVolumes: options.localVolumes,
    });
    stops.push(() => manager.stop());
  }
  if (options.kubelet !== false) stops.push(await startFakeKubelet(client));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: minik, cluster: {server: ${JSON.stringify(server.url)}, certificate-authority-data: ${btoa(tls.cert)}}}]`,
      `users: [{name: minik, user: {token: ${token}}}]`,
      "contexts: [{name: minik, context: {cluster: minik, user: minik, namespace: default}}]",
      "current-context: minik",
      "",
    ].join("\n"),
  );
  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(dir, "cache"),
    ...extra,
  });
  const run: Cluster["kubectl"] = async (args, opts = {}) => {
    const proc = Bun.spawn([...(opts.command ?? ["kubectl"]), ...args], {
      env: env(opts.env),
      cwd: dir,
      stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill(), opts.timeoutMs ?? 30_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  };
  return {
    client,
    node,
    url: server.url,
    dir,
    minik(args) {
      const ca = join(dir, "ca.pem");
      writeFileSync(ca, tls.cert);
      const main = join(import.meta.dir, "../../cmd/main.ts");
      const cli = [process.execPath, main, "--server", server.url, "--token", token];
      return run(args, { command: cli, env: { NODE_EXTRA_CA_CERTS: ca } });
    },
    kubectl: (args, opts = {}) => run(args, opts),
    spawn(args) {
      return Bun.spawn(["kubectl", ...args], {
        env: env(),
        cwd: dir,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
    },
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    async stop() {
      for (const s of stops.reverse()) await s();
      await server.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Plays the node agent for API tests: a scheduled pod becomes Running with ready containers; a pod
 * being deleted is removed at once (as if its containers stopped).
 */
async function startFakeKubelet(client: Client): Promise<() => void> {
  const busy = new Set<string>();
  const handle = async (obj: KubeObject) => {
    const pod = obj as unknown as Pod & KubeObject;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (busy.has(key)) return;
    busy.add(key);
    try {
      if (pod.metadata.deletionTimestamp) {
        await client.delete("pods", pod.metadata.namespace!, pod.metadata.name!, { gracePeriodSeconds: 0 });
      } else if (
        pod.spec?.nodeName &&
        !["Running", "Succeeded", "Failed"].includes(pod.status?.phase ?? "")
      ) {
        const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        const conditions = ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
          type,
          status: "True",
          lastTransitionTime: now,
        }));
        await client.updateStatus("pods", {
          ...pod,
          // no resourceVersion: the registry retries against the newest pod instead of a conflict
          metadata: { ...pod.metadata, resourceVersion: undefined },
          status: {
            phase: "Running",
            podIP: "10.88.0.9",
            podIPs: [{ ip: "10.88.0.9" }],
            hostIP: "127.0.0.1",
            startTime: now,
            conditions,
            containerStatuses: (pod.spec.containers ?? []).map((c) => ({
              name: c.name,
              image: c.image,
              imageID: "sha256:0",
              containerID: `fake://${c.name}`,
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: now } },
            })),
          },
        } as KubeObject);
      }
    } catch (e) {
      if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) console.error("fake kubelet:", e);
    } finally {
      busy.delete(key);
    }
  };
  const pending = new Set<Promise<void>>();
  const stop = await client.watch("pods", {}, (event) => {
    if (event.type === "DELETED") return;
    const p = handle(event.object).finally(() => pending.delete(p));
    pending.add(p);
  });
  return stop;
}

/**
 * Reads a child's output as it comes: `until(text)` waits for it (or the end) — a string, or a
 * pattern when a whole row must have arrived, not just its first chunk; `text()` is all so far.
 */
export function outputReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let text = "";
  return {
    text: () => text,
    async until(want: string | RegExp): Promise<void> {
      while (typeof want === "string" ? !text.includes(want) : !want.test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    },
  };
}
