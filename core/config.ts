import { homedir } from "node:os";
import { join } from "node:path";

/** Where the API listens unless told otherwise (`--listen`). Plain HTTP, loopback only. */
export const DEFAULT_LISTEN = "127.0.0.1:7080";

/** Pod and Service address ranges (configurable with `minik up --pod-cidr/--service-cidr`). */
export const DEFAULT_POD_CIDR = "10.88.0.0/16";
export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";
/**
 * Every node's pods (`minik up --cluster-cidr`): joined nodes get a /24 of it each; it holds the
 * default pod range of the server's own node and stops short of the service range.
 */
export const DEFAULT_CLUSTER_CIDR = "10.80.0.0/12";
export const DEFAULT_NODEPORT_RANGE = "30000-32767";
export const CLUSTER_DOMAIN = "cluster.local";
/** Where the API's TLS listener for pods (behind the `kubernetes` Service) listens on the bridge. */
export const POD_API_PORT = 6443;

/** `--data-dir` default: /var/lib/minik for root, ~/.minik otherwise; `$MINIK_DATA_DIR` overrides. */
export function defaultDataDir(): string {
  const fromEnv = process.env.MINIK_DATA_DIR;
  if (fromEnv) return fromEnv;
  const uid = typeof process.getuid === "function" ? process.getuid() : -1;
  return uid === 0 ? "/var/lib/minik" : join(homedir(), ".minik");
}

export const paths = {
  db: (dataDir: string) => join(dataDir, "state.db"),
  token: (dataDir: string) => join(dataDir, "token"),
  kubeconfig: (dataDir: string) => join(dataDir, "kubeconfig"),
  /** The key that signs service-account tokens (0600, never leaves the data dir). */
  serviceAccountKey: (dataDir: string) => join(dataDir, "sa.key"),
  /** Written by `minik up` so the CLI finds the server it started. */
  serverUrl: (dataDir: string) => join(dataDir, "server"),
};
