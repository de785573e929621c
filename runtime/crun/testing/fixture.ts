import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type {
  ContainerConfig,
  ContainerRuntime,
  RuntimeEvent,
  SandboxConfig,
} from "../../../core/seams/container-runtime.ts";
import { releaseCrunNamespace } from "../crun-namespace.ts";
import { type CrunRuntime, type CrunRuntimeOptions, createCrunRuntime } from "../crun-runtime.ts";
import { busyboxImageSource } from "./busybox-image.ts";

/** A CrunRuntime over a throw-away data dir with the busybox image, plus helpers for tests. */
export const BUSYBOX = "minik-test/busybox:local";

export interface Fixture {
  dataDir: string;
  /** The runtime under test; a test may replace it with `another()` (a restart). */
  rt: CrunRuntime;
  /** Another runtime object over the same data dir (a restarted minik). */
  another(): CrunRuntime;
  sandbox(name?: string): SandboxConfig;
  container(
    sb: SandboxConfig,
    name: string,
    command: string[],
    extra?: Partial<ContainerConfig>,
  ): ContainerConfig;
  nextEvent(
    rt: ContainerRuntime,
    match: (e: RuntimeEvent) => boolean,
    timeoutMs?: number,
  ): Promise<RuntimeEvent>;
  /** Removes every pod, closes, stops the mount-namespace holder and deletes the data dir. */
  cleanup(): Promise<void>;
}

export function sandboxConfig(
  name: string,
  podUid: string,
  more: Partial<SandboxConfig> = {},
): SandboxConfig {
  return {
    podUid,
    namespace: "default",
    name,
    hostname: name,
    dns: { nameservers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] },
    hostAliases: [],
    hostPorts: [],
    ...more,
  };
}

export function containerConfig(
  sb: SandboxConfig,
  name: string,
  more: Partial<ContainerConfig> = {},
): ContainerConfig {
  return {
    podUid: sb.podUid,
    podNamespace: sb.namespace,
    podName: sb.name,
    name,
    attempt: 0,
    image: BUSYBOX,
    env: [],
    resources: {},
    mounts: [],
    security: {},
    tty: false,
    stdin: false,
    ...more,
  };
}

export async function createFixture(extra: Partial<CrunRuntimeOptions> = {}): Promise<Fixture> {
  const dataDir = mkdtempSync("/tmp/minik-crun-");
  const images = busyboxImageSource(dataDir);
  const make = () => createCrunRuntime({ dataDir, images, ...extra });
  const rt = make();
  await rt.start();
  const pods = new Set<string>();
  let seq = 0;
  const fixture: Fixture = {
    dataDir,
    rt,
    another: make,
    sandbox(name = `pod-${++seq}`) {
      const sb = sandboxConfig(name, `${name}-${crypto.randomUUID()}`);
      pods.add(sb.podUid);
      return sb;
    },
    container: (sb, name, command, more = {}) => containerConfig(sb, name, { command, ...more }),
    nextEvent(r, match, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`no matching runtime event within ${timeoutMs} ms`));
        }, timeoutMs);
        const off = r.onEvent((e) => {
          if (!match(e)) return;
          clearTimeout(timer);
          off();
          resolve(e);
        });
      });
    },
    async cleanup() {
      for (const uid of pods) await fixture.rt.removePodSandbox(uid).catch(() => {});
      await fixture.rt.close();
      releaseCrunNamespace(`${dataDir}/run`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** The host cgroup path of `pid` in the hierarchy holding `controller` (v1) or the unified one. */
export function cgroupOf(pid: number, controller: string): string | undefined {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const [, ctrls, path] = line.split(":");
    if (ctrls?.split(",").includes(controller)) return path;
  }
  return undefined;
}

export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dir}/`));
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
