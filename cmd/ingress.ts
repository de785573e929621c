import { createSelfSignedCertificate } from "../core/api/tls-certificate.ts";
import { createIngressRouter, type IngressRouter } from "../core/network/ingress-router.ts";
import type { IngressCertificate, IngressListeners } from "../core/seams/ingress-listener.ts";
import { platform } from "./platform/index.ts";
import type { RunningProxy } from "./platform/platform.ts";
import { UsageError } from "./usage-error.ts";

/** Where the ingress listens by default: the host's web ports on loopback. */
export const DEFAULT_INGRESS_HTTP = "127.0.0.1:80";
export const DEFAULT_INGRESS_HTTPS = "127.0.0.1:443";

export interface IngressAddress {
  hostname: string;
  port: number;
}

/** `--ingress-http` / `--ingress-https`: `host:port`, or `off`. */
export function parseIngressAddress(flag: string, value: string): IngressAddress | undefined {
  if (value === "off") return undefined;
  const i = value.lastIndexOf(":");
  const hostname = (i > 0 ? value.slice(0, i) : "").replace(/^\[|\]$/g, "");
  const port = Number(value.slice(i + 1));
  if (!hostname || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`invalid ${flag} "${value}": use host:port (e.g. 127.0.0.1:8080) or off`);
  return { hostname, port };
}

export interface NodeIngress {
  router: IngressRouter;
  listeners: IngressListeners;
  /** What it listens on, for the start-up log. */
  urls: string[];
}

/**
 * The node's ingress listeners on the platform's server: HTTP, and HTTPS with the Ingresses'
 * certificates by SNI (a self-signed default certificate for every other name). New
 * certificates start a second HTTPS listener on the same port (SO_REUSEPORT) before the old one
 * stops accepting, so neither new nor open connections are refused.
 */
export async function startNodeIngress(http?: IngressAddress, https?: IngressAddress): Promise<NodeIngress> {
  const router = createIngressRouter((url, init) => platform.forward(url, init));
  const handler = router;
  const fallback = await createSelfSignedCertificate({
    commonName: "minik ingress default certificate",
    dnsNames: ["ingress.minik.invalid"],
  });
  const plain = http ? platform.serveProxy(handler, { ...http }) : undefined;
  const serveTls = (port: number, certificates: IngressCertificate[]): RunningProxy =>
    platform.serveProxy(handler, {
      hostname: https!.hostname,
      port,
      reusePort: true,
      certificates: [{ serverName: "", ...fallback }, ...certificates],
    });
  let secure: RunningProxy | undefined;
  try {
    secure = https ? serveTls(https.port, []) : undefined;
  } catch (e) {
    await plain?.stop();
    throw e;
  }
  return {
    router,
    urls: [plain?.url, secure?.url].filter((u): u is string => !!u),
    listeners: {
      address: (http ?? https)!.hostname,
      async setCertificates(certificates) {
        if (!secure) return;
        const old = secure;
        secure = serveTls(old.port, certificates);
        // the old one finishes its open connections in the background (a swap must not wait for
        // a long download, nor cut it)
        old.drain();
      },
      async stop() {
        await Promise.allSettled([plain?.stop(), secure?.stop()]);
      },
    },
  };
}
