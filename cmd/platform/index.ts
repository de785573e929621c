import type { Platform } from "./platform.ts";

/** The platform minik runs on, chosen once at start: Deno when its global is there, else Bun. */
export const platform: Platform =
  "Deno" in globalThis ? (await import("./deno.ts")).denoPlatform : (await import("./bun.ts")).bunPlatform;
