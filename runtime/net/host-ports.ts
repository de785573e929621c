/** A pod's hostPort, as in SandboxConfig.hostPorts (runtime/container-runtime.ts). */
export interface HostPortMapping {
  containerPort: number;
  hostPort: number;
  protocol: "TCP" | "UDP" | "SCTP";
  /** Only this host address; default every local address (127.0.0.1 included). */
  hostIP?: string;
}

/**
 * Where hostPort DNAT rules live: the service proxy's nft table (runtime/net/nft-proxy.ts), so one
 * atomic `nft -f` holds services and hostPorts together.
 */
export interface HostPortTable {
  /** Throws a RuntimeError("HostPortConflict") naming the port and the pod holding it. */
  checkHostPorts(podUid: string, mappings: HostPortMapping[], podName?: string): void;
  setHostPorts(podUid: string, podIp: string, mappings: HostPortMapping[], podName?: string): Promise<void>;
  removeHostPorts(podUid: string): Promise<void>;
  /** Drops mappings of pods not in `livePodUids`. */
  retainHostPorts(livePodUids: Iterable<string>): Promise<void>;
}
