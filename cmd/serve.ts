import type { Hono } from "hono";
import { platform } from "./platform/index.ts";
import type { RunningServer, ServeOptions } from "./platform/platform.ts";

export type { RunningServer, ServeOptions } from "./platform/platform.ts";
export { isLoopback } from "./platform/platform.ts";

/** Serves the runtime-neutral API app (core/api) on the platform minik runs on (Bun or Deno). */
export function serve(app: Hono<any>, options: ServeOptions): RunningServer {
  return platform.serve(app, options);
}
