import { existsSync, readFileSync } from "node:fs";
import type { Listeners } from "../../core/api/listeners-api.ts";
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
 * Prints a kubeconfig for the TLS listener (kubectl sends a token only over TLS), asking the
 * server where that is — also when the CLI reaches it by its plain-HTTP URL (-s). When the server
 * does not answer, the kubeconfig the last `minik up` wrote to the data dir.
 */
export async function printKubeconfig(opts: GlobalOptions): Promise<void> {
  let listeners: Listeners;
  try {
    listeners = await new ApiClient(opts).get<Listeners>("/minik/v1/listeners");
  } catch (e) {
    const file = paths.kubeconfig(opts.dataDir ?? defaultDataDir());
    if (!opts.server && existsSync(file)) return void process.stdout.write(readFileSync(file, "utf8"));
    throw e;
  }
  process.stdout.write(kubeconfigYaml(listeners.https, token(opts), listeners.certificate));
}

/** Prints a one-time login link for the status page (the page needs the token, like the API). */
export async function dashboard(opts: GlobalOptions): Promise<void> {
  const api = new ApiClient(opts);
  const link = await api.request<{ url: string }>("POST", "/minik/v1/login-links", { body: {} });
  console.log(new URL(link.url, api.base).toString());
}
