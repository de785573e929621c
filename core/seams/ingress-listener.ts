/**
 * The node's ingress entry points: an HTTP and an HTTPS listener on the host that hand every
 * request to the ingress router (core/network/ingress-router.ts). The router and its routing
 * table are web-standard code in core; the listeners need the platform's server (SNI
 * certificates, the client's address), so they are implemented behind cmd/platform.
 */
export interface IngressCertificate {
  /** The SNI name it answers for: a host or `*.example.com`. */
  serverName: string;
  /** PEM. */
  cert: string;
  key: string;
}

export interface IngressRequestInfo {
  /** The TCP peer's address (X-Forwarded-For / X-Real-IP). */
  clientIp: string;
  proto: "http" | "https";
  /** The port the request came in on (X-Forwarded-Port). */
  port: number;
}

/** Where a WebSocket upgrade goes: the pod's `ws://` URL, the headers and subprotocols to ask for. */
export interface UpgradeTarget {
  url: string;
  headers: Headers;
  protocols: string[];
}

export interface IngressHandler {
  /** Answers a plain HTTP request: proxied to a pod, or 404/502/503. */
  handle(request: Request, info: IngressRequestInfo): Promise<Response>;
  /**
   * For `Upgrade: websocket`: the pod to open a WebSocket to (the listener relays the two
   * sockets), or the answer that refuses it (404, 503).
   */
  upgradeTarget(request: Request, info: IngressRequestInfo): UpgradeTarget | Response;
}

export interface IngressListeners {
  /** The address the listeners are bound to, published in `status.loadBalancer.ingress`. */
  readonly address: string;
  /**
   * Replaces the HTTPS listener's certificates without dropping open connections; requests for
   * other names get the listener's own default certificate.
   */
  setCertificates(certificates: IngressCertificate[]): Promise<void>;
  stop(): Promise<void>;
}
