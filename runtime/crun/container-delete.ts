import { rmSync } from "node:fs";
import type { CgroupHost } from "../cgroups/cgroup-host.ts";
import { cgroupHasProcesses } from "../cgroups/cgroup-tree.ts";
import type { CrunCli } from "./crun-cli.ts";

/**
 * crun's part of removing a container. For a container that ran and stopped, `crun delete` only
 * removes its state dir (`<root>/<id>`) and its cgroup — the bundle has no hooks — and costs two
 * processes (nsenter, crun) per container: 100 for a 50-pod Deployment deleted at once. So when
 * minik saw the init exit and nothing is left in the container's cgroup, it removes the state dir
 * itself (the caller removes the cgroup in every hierarchy, as after `crun delete`). Anything else
 * — a container never started or still running, or processes the init left behind (a pod sharing
 * the host's PID namespace keeps them alive after the init dies) — goes through `crun delete -f`,
 * which kills what is left.
 */
export async function deleteContainerState(
  crun: CrunCli,
  cgroups: CgroupHost,
  container: { id: string; state: string; cgroupPath: string },
): Promise<void> {
  if (container.state === "exited" && !cgroupHasProcesses(cgroups, container.cgroupPath)) {
    rmSync(`${crun.root}/${container.id}`, { recursive: true, force: true });
    return;
  }
  await crun.delete(container.id);
}
