import { existsSync, readFileSync } from "node:fs";
import { defaultDataDir, paths } from "../../core/config.ts";
import { VERSION } from "../../core/version.ts";
import { ApiClient } from "../api-client.ts";
import { type GlobalOptions, serverUrl, token } from "../context.ts";
import { kubeconfigYaml } from "../kubeconfig.ts";

export async function version(opts: GlobalOptions): Promise<void> {
  console.log(`Client Version: minik ${VERSION.minik} (Kubernetes ${VERSION.gitVersion})`);
  try {
    const v = await new ApiClient(opts).get<{ gitVersion: string }>("/version");
    console.log(`Server Version: ${v.gitVersion} at ${serverUrl(opts)}`);
  } catch (e) {
    console.log(`Server Version: unreachable at ${serverUrl(opts)} (${(e as Error).message})`);
  }
}

/**
 * Prints the kubeconfig `minik up` wrote (its TLS listener and certificate: kubectl sends a token
 * only over TLS); with -s, one for that server and the token.
 */
export function printKubeconfig(opts: GlobalOptions): void {
  const file = paths.kubeconfig(opts.dataDir ?? defaultDataDir());
  if (!opts.server && existsSync(file)) process.stdout.write(readFileSync(file, "utf8"));
  else process.stdout.write(kubeconfigYaml(serverUrl(opts), token(opts)));
}

/** Prints a one-time login link for the status page (the page needs the token, like the API). */
export async function dashboard(opts: GlobalOptions): Promise<void> {
  const api = new ApiClient(opts);
  const link = await api.request<{ url: string }>("POST", "/minik/v1/login-links", { body: {} });
  console.log(new URL(link.url, api.base).toString());
}
