import type { PodRoute, PodRoutes } from "../pod-routes.ts";

/** Remembers the routes it was last given, as the kernel would hold them. */
export interface FakePodRoutes extends PodRoutes {
  current: PodRoute[];
  syncs: number;
}

export function createFakePodRoutes(): FakePodRoutes {
  const fake: FakePodRoutes = {
    current: [],
    syncs: 0,
    async sync(routes) {
      fake.current = [...routes].sort((a, b) => (a.podCidr < b.podCidr ? -1 : 1));
      fake.syncs++;
    },
  };
  return fake;
}
