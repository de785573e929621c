/**
 * One "minik process" generation for the restart test: `gen1 DATA` starts a pod with a sleeper
 * and an exiter and then waits to be killed (-9); `gen2 DATA` adopts them and reports as JSON lines.
 */
import { createCrunRuntime } from "../crun-runtime.ts";
import { busyboxImageSource } from "./busybox-image.ts";
import { containerConfig, sandboxConfig } from "./fixture.ts";

const [mode, dataDir] = process.argv.slice(2) as [string, string];
const rt = createCrunRuntime({ dataDir, images: busyboxImageSource(dataDir) });
await rt.start();
const podUid = "restart-pod-0001";
const sb = sandboxConfig("restart", podUid);
const ctr = (name: string, command: string[]) => containerConfig(sb, name, { command });
const sleeper = ctr("sleeper", ["sleep", "3600"]);
const exiter = ctr("exiter", ["sh", "-c", "sleep 1.5; exit 5"]);
const say = (o: unknown) => console.log(JSON.stringify(o));

if (mode === "gen1") {
  await rt.runPodSandbox(sb);
  const a = await rt.startContainer(sleeper);
  const b = await rt.startContainer(exiter);
  say({ sleeper: a.id, exiter: b.id });
  setInterval(() => {}, 1000);
} else {
  const exited = new Promise<void>((resolve) => rt.onEvent((e) => e.type === "exited" && resolve()));
  say({ listed: await rt.listContainers(), sandboxes: await rt.listPodSandboxes() });
  const again = await rt.startContainer(sleeper);
  say({ again: again.id, count: (await rt.listContainers()).length });
  await exited;
  say({ afterExit: await rt.listContainers() });
  await rt.stopContainer(again.id, 0);
  say({ stopped: (await rt.listContainers()).find((c) => c.id === again.id) });
  await rt.removePodSandbox(podUid);
  await rt.close();
  process.exit(0);
}
