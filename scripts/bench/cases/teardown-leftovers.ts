/**
 * What a pod's tear-down must leave behind: nothing. The teardown case times the containers'
 * deaths; this then waits (untimed) until every netns, veth, mount, cgroup, crun state dir and
 * data dir of the deleted pods is gone too, so a faster teardown cannot be bought by leaking.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULT_NETNS_PREFIX,
  DEFAULT_VETH_PREFIX,
  NETNS_DIR,
  shortId,
} from "../../../runtime/net/pod-network.ts";
import { run } from "../lib.ts";

export interface PodHostState {
  podUids: string[];
  containerIds: string[];
}

/** The pods (and their containers) of `podUids` as minik's data dir records them now. */
export function podHostState(dataDir: string, podUids: string[]): PodHostState {
  const dir = join(dataDir, "containers");
  const wanted = new Set(podUids);
  const containerIds: string[] = [];
  for (const id of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const c = JSON.parse(readFileSync(join(dir, id, "container.json"), "utf8"));
      if (wanted.has(c.podUid)) containerIds.push(id);
    } catch {}
  }
  return { podUids, containerIds };
}

/** Everything of those pods still on the host (empty: all gone). */
export async function leftovers(dataDir: string, state: PodHostState): Promise<string[]> {
  const paths = [
    ...state.podUids.flatMap((uid) => [
      join(dataDir, "pods", uid),
      join(dataDir, "run", "pods", uid),
      `${NETNS_DIR}/${DEFAULT_NETNS_PREFIX}${shortId(uid)}`,
      `/sys/class/net/${DEFAULT_VETH_PREFIX}${shortId(uid)}`,
    ]),
    ...state.containerIds.flatMap((id) => [
      join(dataDir, "containers", id),
      join(dataDir, "run", "crun", id),
      join(dataDir, "run", "rootfs", id),
    ]),
  ];
  const left = paths.filter((p) => existsSync(p));
  const names = [...state.podUids, ...state.containerIds];
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => names.some((n) => m.includes(n)));
  // every hierarchy (v1 controllers, name=systemd, v2): minik's tree is …/minik/<pod-uid>/<id>
  const found = await run(["find", "/sys/fs/cgroup", "-type", "d", "-path", "*/minik/*"]);
  const cgroups = found.stdout
    .split("\n")
    .filter((d) => state.podUids.some((uid) => d.includes(`/minik/${uid}`)));
  return [...left, ...mounts.map((m) => `mount ${m}`), ...cgroups.map((c) => `cgroup ${c}`)];
}
