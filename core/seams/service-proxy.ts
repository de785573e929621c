/**
 * What the service data path is given: one entry per (Service, port) with its ready endpoints.
 * The controller (service-proxy-controller.ts) computes it from Services and EndpointSlices; the
 * runtime (runtime/net/nft-proxy.ts) turns it into one nftables table.
 */
export type ProxyProtocol = "TCP" | "UDP" | "SCTP";

export interface ProxyEndpoint {
  ip: string;
  port: number;
}

export interface ProxyServicePort {
  /** `namespace/name:portName`: stable identity (rule comments, affinity state across syncs). */
  key: string;
  clusterIP?: string;
  port: number;
  protocol: ProxyProtocol;
  nodePort?: number;
  /** Ready, not terminating. Empty: connections are refused rather than left to time out. */
  endpoints: ProxyEndpoint[];
  /** `sessionAffinity: ClientIP`: a client sticks to one endpoint for this long after its last connection. */
  affinityTimeoutSeconds?: number;
}

/** A port the data path could not give to a service port as asked (reported as a Warning event). */
export interface ProxyWarning {
  /** The ProxyServicePort key, `namespace/name:port`. */
  key: string;
  message: string;
}

export interface ServiceProxy {
  /** Replaces the whole data path with `ports`, atomically; returns what it could not honour. */
  sync(ports: ProxyServicePort[]): Promise<{ warnings: ProxyWarning[] }>;
}
