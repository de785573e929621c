/**
 * The runtime-neutral WebSocket seam: exec, attach and port-forward handlers speak to this, and
 * cmd/platform/ binds it to Bun's WebSocket (bun.ts) or Deno.upgradeWebSocket (deno.ts).
 */
export interface Socket {
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Closes with a code (1000 = normal; kubectl requires it after exec). */
  close(code?: number, reason?: string): void;
  onMessage(listener: (data: Uint8Array) => void): void;
  onClose(listener: () => void): void;
}

/** Called once the socket is open. */
export type SocketHandler = (socket: Socket) => void;

/**
 * Passed per request by the server binding as the hono `env`. `upgrade` switches the request to a
 * WebSocket speaking `protocol`; it returns the Response to hand back (Bun ignores it after an
 * upgrade), or undefined when the runtime could not upgrade.
 */
export interface ServerEnv {
  /** True when the server listens on a loopback address only (gates anonymous access). */
  loopback?: boolean;
  upgrade?: (req: Request, protocol: string, handler: SocketHandler) => Response | undefined;
}

export function isWebSocketUpgrade(req: Request): boolean {
  return (req.headers.get("Upgrade") ?? "").toLowerCase() === "websocket";
}

/** The subprotocols a client offers, in its order. */
export function offeredProtocols(req: Request): string[] {
  return (req.headers.get("Sec-WebSocket-Protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}
