import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";

/** A kubeconfig for kubectl and client libraries: cluster, user and context all named `minik`. */
export function kubeconfig(
  server: string,
  token: string | undefined,
  caCert?: string,
): Record<string, unknown> {
  const cluster = caCert ? { "certificate-authority-data": btoa(caCert), server } : { server };
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "minik", cluster }],
    users: [{ name: "minik", user: token ? { token } : {} }],
    contexts: [{ name: "minik", context: { cluster: "minik", user: "minik", namespace: "default" } }],
    "current-context": "minik",
    preferences: {},
  };
}

export function kubeconfigYaml(server: string, token: string | undefined, caCert?: string): string {
  return stringify(kubeconfig(server, token, caCert));
}

/** Merges the minik entries into ~/.kube/config (or $KUBECONFIG), replacing older minik entries. */
export function mergeIntoUserKubeconfig(server: string, token: string | undefined, caCert?: string): string {
  const file = process.env.KUBECONFIG?.split(":")[0] || join(homedir(), ".kube", "config");
  const mine = kubeconfig(server, token, caCert) as Record<string, any[]>;
  const cfg: Record<string, any> = existsSync(file) ? (parse(readFileSync(file, "utf8")) ?? {}) : {};
  for (const key of ["clusters", "users", "contexts"]) {
    cfg[key] = [...(cfg[key] ?? []).filter((e: { name: string }) => e.name !== "minik"), ...mine[key]!];
  }
  cfg.apiVersion ??= "v1";
  cfg.kind ??= "Config";
  cfg["current-context"] = "minik";
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stringify(cfg), { mode: 0o600 });
  return file;
}
