import { writeFileSync } from "node:fs";
import type { PodRoute, PodRoutes } from "../../core/seams/pod-routes.ts";
import { runOk } from "./exec.ts";
import { readSysctl } from "./sysctl.ts";

/**
 * The routing protocol number minik's pod routes carry (`ip route … proto 179`): sync lists and
 * removes only routes with it, so the host's own routes are never touched.
 */
export const POD_ROUTE_PROTOCOL = "179";

export interface KernelPodRoutesOptions {
  /** Run `ip -n NETNS` (tests); default: this process's namespace. */
  netns?: string;
  /** Turn on net.ipv4.ip_forward when there is a route (default true): the node forwards pod traffic. */
  enableForwarding?: boolean;
  log?: (message: string) => void;
}

export interface KernelPodRoutes extends PodRoutes {
  /** Removes every pod route (minik reset, node clean-up). */
  cleanup(): Promise<void>;
}

export function createKernelPodRoutes(options: KernelPodRoutesOptions = {}): KernelPodRoutes {
  const ip = (...args: string[]) => runOk(["ip", ...(options.netns ? ["-n", options.netns] : []), ...args]);

  async function current(): Promise<{ dst: string; gateway?: string }[]> {
    const out = await ip("-j", "route", "show", "proto", POD_ROUTE_PROTOCOL);
    return out.trim() ? (JSON.parse(out) as { dst: string; gateway?: string }[]) : [];
  }

  function ensureForwarding(): void {
    if (options.enableForwarding === false || readSysctl("net.ipv4.ip_forward") === "1") return;
    // without it the kernel drops what arrives for the bridge from another node
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    options.log?.("turned on net.ipv4.ip_forward: this node now forwards pod traffic between nodes");
  }

  return {
    async sync(routes: PodRoute[]) {
      if (routes.length) ensureForwarding();
      const have = await current();
      for (const r of routes) {
        if (have.some((h) => h.dst === r.podCidr && h.gateway === r.via)) continue;
        await ip("route", "replace", r.podCidr, "via", r.via, "proto", POD_ROUTE_PROTOCOL).catch((e) => {
          throw new Error(
            `routing node ${r.node}'s pods (${r.podCidr}) via ${r.via}: ${(e as Error).message} (is ${r.via} on a network this node is attached to?)`,
          );
        });
      }
      for (const h of have) {
        if (!routes.some((r) => r.podCidr === h.dst))
          await ip("route", "del", h.dst, "proto", POD_ROUTE_PROTOCOL);
      }
    },
    async cleanup() {
      for (const h of await current()) await ip("route", "del", h.dst, "proto", POD_ROUTE_PROTOCOL);
    },
  };
}
