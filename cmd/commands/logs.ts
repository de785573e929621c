import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";

export interface LogsOptions extends GlobalOptions {
  container?: string;
  follow?: boolean;
  tail?: number;
  timestamps?: boolean;
  previous?: boolean;
}

/** `minik logs POD`: streams the pods/log endpoint to stdout as it arrives. */
export async function logs(pod: string, opts: LogsOptions): Promise<void> {
  const api = new ApiClient(opts);
  const name = pod.replace(/^(pods?|po)\//, "");
  const ns = opts.namespace ?? "default";
  const res = await api.raw("GET", `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}/log`, {
    accept: "*/*",
    query: {
      container: opts.container,
      follow: opts.follow || undefined,
      tailLines: opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined,
      timestamps: opts.timestamps || undefined,
      previous: opts.previous || undefined,
    },
  });
  const reader = res.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    process.stdout.write(value);
  }
}
