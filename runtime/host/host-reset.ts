import { existsSync, rmSync } from "node:fs";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { releaseCrunNamespace, stopHolder } from "../crun/crun-namespace.ts";
import { createCrunRuntime } from "../crun/crun-runtime.ts";
import { dataLayout } from "../crun/data-layout.ts";
import { readRecords, type SandboxRecord } from "../crun/runtime-records.ts";
import { nodeNetworkTraces, removeNodeNetwork } from "../net/node-network.ts";
import { mountsBelow, unmountBelow } from "./mounts.ts";

/**
 * What `minik reset` does to the machine: removes every container and pod sandbox the crun
 * runtime has records of (through the runtime itself, so crun, cgroups, rootfs mounts and volumes
 * go the normal way), every pod namespace and veth, the bridge and the nft table, unmounts
 * whatever is left under the data dir, and with `all` removes the data dir. Safe to run twice.
 * The caller makes sure no `minik up` runs (see minik-processes.ts); `say` gets one line per thing
 * removed.
 */
export interface HostResetOptions {
  dataDir: string;
  all?: boolean;
  say: (line: string) => void;
}

export async function resetHost({ dataDir, all, say }: HostResetOptions): Promise<void> {
  if (existsSync(dataDir)) await removeContainers(dataDir, say);
  await removeNetwork(dataDir, say);
  if (!existsSync(dataDir)) return;
  stopCrunHolder(dataDir, say);
  for (const m of unmountBelow(dataDir)) say(`unmounted ${m}`);
  if (all) {
    rmSync(dataDir, { recursive: true, force: true });
    say(`removed data directory ${dataDir}`);
  }
}

/** Every sandbox and container in the runtime's records, removed through the runtime. */
async function removeContainers(dataDir: string, say: (m: string) => void): Promise<void> {
  // SandboxStatus has no pod name: the records say which pod each sandbox was
  const podNames = new Map(
    readRecords<SandboxRecord>(dataLayout(dataDir).podsDir, "sandbox.json").map((r) => [
      r.podUid,
      `${r.namespace}/${r.name}`,
    ]),
  );
  const noImages = async (): Promise<never> => {
    throw new RuntimeError("ImagePullError", "minik reset pulls no images");
  };
  const runtime = createCrunRuntime({
    dataDir,
    images: { pull: noImages, resolve: () => undefined },
    log: () => {},
  });
  await runtime.start();
  try {
    const containers = await runtime.listContainers();
    for (const sb of await runtime.listPodSandboxes()) {
      const names = containers.filter((c) => c.podUid === sb.podUid).map((c) => c.name);
      await runtime.removePodSandbox(sb.podUid);
      say(
        `removed pod ${podNames.get(sb.podUid) ?? sb.podUid}${names.length ? ` (containers ${names.join(", ")})` : ""}`,
      );
    }
    // containers whose pod record is gone (a crash between the two records)
    for (const c of await runtime.listContainers()) {
      await runtime.removeContainer(c.id);
      say(`removed container ${c.name} (${c.id})`);
    }
  } finally {
    await runtime.close();
  }
}

/** Pod namespaces, veths, bridge and nft table; says what went and what would not. */
async function removeNetwork(dataDir: string, say: (m: string) => void): Promise<void> {
  const before = await nodeNetworkTraces();
  await removeNodeNetwork({ dataDir });
  const after = await nodeNetworkTraces();
  for (const t of before) if (!after.includes(t)) say(`removed ${t}`);
  for (const t of after) say(`could not remove ${t}`);
}

/**
 * The crun mount-namespace holder of a hybrid-cgroup host retires by itself once its pid file is
 * gone, but only within 10 s: stop it now so nothing of minik runs after reset.
 * releaseCrunNamespace then unmounts the shared run dir.
 */
function stopCrunHolder(dataDir: string, say: (m: string) => void): void {
  const runDir = dataLayout(dataDir).runDir;
  const pid = stopHolder(runDir);
  if (pid !== undefined) say(`stopped crun's mount namespace holder (pid ${pid})`);
  if (mountsBelow(dataDir).includes(runDir)) {
    releaseCrunNamespace(runDir);
    say(`unmounted ${runDir}`);
  }
}
