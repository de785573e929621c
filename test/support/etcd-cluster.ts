import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real 3-member etcd cluster on loopback ports, from Debian's etcd-server, for the etcd store's
 * tests: each member in its own data dir under a temp dir that `stop()` removes with the processes.
 */
export interface EtcdCluster {
  endpoints: string[];
  /** Stops one member (a failure); the others keep quorum. */
  kill(member: number): void;
  stop(): Promise<void>;
}

/** Distinct free ports: every listener stays open until all are chosen, so none repeats. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export const etcdBinary = Bun.which("etcd");

export async function startEtcdCluster(members = 3): Promise<EtcdCluster> {
  if (!etcdBinary) throw new Error("etcd is not installed (apt-get install etcd-server)");
  const dir = mkdtempSync(join(tmpdir(), "minik-etcd-"));
  const ports = await freePorts(members * 2);
  const peers = Array.from({ length: members }, (_, i) => `m${i}=http://127.0.0.1:${ports[i * 2 + 1]}`).join(
    ",",
  );
  const procs = Array.from({ length: members }, (_, i) => {
    const client = `http://127.0.0.1:${ports[i * 2]}`;
    const peer = `http://127.0.0.1:${ports[i * 2 + 1]}`;
    return Bun.spawn(
      [
        etcdBinary,
        "--name",
        `m${i}`,
        "--data-dir",
        join(dir, `m${i}`),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        peers,
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        `minik-test-${process.pid}`,
        "--log-level",
        "error",
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
  });
  const endpoints = Array.from({ length: members }, (_, i) => `http://127.0.0.1:${ports[i * 2]}`);
  const deadline = Date.now() + 20_000;
  for (const e of endpoints) {
    for (;;) {
      const ok = await fetch(`${e}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`etcd member ${e} did not become healthy in 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoints,
    kill: (member) => procs[member]?.kill("SIGKILL"),
    async stop() {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
