import type { Hono } from "hono";
import type { IngressHandler } from "../../core/seams/ingress-listener.ts";

/**
 * What the CLI and `minik up` need of the JavaScript runtime they run on. One implementation per
 * runtime (bun.ts, deno.ts), chosen once at start by index.ts; nothing else in cmd/ calls `Bun.*`
 * or `Deno.*`.
 */
export interface Platform {
  /** "bun" or "deno", as /version reports it. */
  readonly name: "bun" | "deno";
  /**
   * True where the node half (runtime/: crun, cgroups, netns over bun:ffi and Bun.spawn) runs.
   * Under Deno minik is a control plane only (`--runtime none`).
   */
  readonly nodeRuntime: boolean;
  /** Serves the runtime-neutral API app, with WebSocket upgrades bound to core/api/socket.ts. */
  serve(app: Hono<any>, options: ServeOptions): RunningServer;
  /**
   * Serves a plain request handler (the ingress router): HTTP, or HTTPS choosing among
   * `certificates` by SNI (the first is the default). `reusePort` lets a new listener take over
   * the port of an old one without a gap.
   */
  serveProxy(handler: IngressHandler, options: ProxyServeOptions): RunningProxy;
  /** fetch that hands bodies through as they are (no decompression): the ingress's upstream call. */
  forward(url: string, init: RequestInit): Promise<Response>;
  sleep(ms: number): Promise<void>;
  /** All of standard input, as text (`-f -`). */
  readStdin(): Promise<string>;
  /** Listens on hostname:port and relays every connection to target (port-forward). */
  relayTcp(listen: { hostname: string; port: number }, target: { hostname: string; port: number }): TcpRelay;
  /**
   * A full, synchronous garbage collection where the runtime offers one (a no-op elsewhere), with
   * the heap's free pages given back; the binary's file pages stay (unlike releaseMemory).
   */
  collectGarbage(): void;
  /**
   * Gives back what the process holds but does not use: a full collection, the heap's free pages,
   * and (Bun) the clean file pages of the binary that start-up touched. For a daemon gone quiet
   * (see cmd/memory-trimmer.ts); synchronous, a few milliseconds.
   */
  releaseMemory(): void;
}

export interface ServeOptions {
  hostname: string;
  port: number;
  /**
   * PEM certificate and key. kubectl sends credentials (the bearer token) only over TLS, so a
   * token-protected server must use it; plain HTTP suits anonymous loopback access only.
   */
  tls?: { cert: string; key: string };
}

export interface ProxyServeOptions {
  hostname: string;
  port: number;
  /** HTTPS when set: the first entry's `serverName` is ignored, it answers every other name. */
  certificates?: { serverName: string; cert: string; key: string }[];
  reusePort?: boolean;
}

/** A proxy listener: `stop` closes every connection, `drain` only stops accepting new ones. */
export interface RunningProxy extends RunningServer {
  /** Stops accepting; open connections finish what they are doing and close on their own. */
  drain(): void;
}

export interface RunningServer {
  url: string;
  hostname: string;
  port: number;
  stop(): Promise<void>;
}

export interface TcpRelay {
  /** The port it listens on (the one asked for, or the one the kernel chose for 0). */
  port: number;
  stop(): void;
}

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}

/** The URL clients use for a server listening on hostname:port. */
export function serverUrlOf(hostname: string, port: number, tls: boolean): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return `${tls ? "https" : "http"}://${host}:${port}`;
}
