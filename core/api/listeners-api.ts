import { Hono } from "hono";
import { ApiError } from "../errors.ts";

/** Where a running minik listens, as `GET /minik/v1/listeners` reports it. */
export interface Listeners {
  /** The plain-HTTP listener (`--listen`): the minik CLI's default. */
  http: string;
  /** The TLS listener (`--listen-tls`): kubectl sends its token only here. */
  https: string;
  /** PEM certificate of the TLS listener, for a kubeconfig's certificate-authority-data. */
  certificate: string;
}

/**
 * `GET /minik/v1/listeners` (behind the token): lets `minik kubeconfig` point kubectl at the TLS
 * listener whichever URL the CLI reached the server by. Unavailable until both listeners are up.
 */
export function createListenersApi(listeners: () => Listeners | undefined): Hono {
  const app = new Hono();
  app.get("/minik/v1/listeners", () => {
    const current = listeners();
    if (!current) throw new ApiError("ServiceUnavailable", "minik is still starting its listeners");
    return new Response(JSON.stringify({ kind: "Listeners", apiVersion: "minik/v1", ...current }), {
      headers: { "Content-Type": "application/json" },
    });
  });
  return app;
}
