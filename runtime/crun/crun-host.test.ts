import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";
import { detectCgroupHost } from "../cgroups/cgroup-host.ts";
import { podCgroupPath } from "../cgroups/cgroup-tree.ts";
import { HOLDER_NAME, holderPidFile, releaseCrunNamespace } from "./crun-namespace.ts";
import { dataLayout } from "./data-layout.ts";
import { createFixture, type Fixture, listDir } from "./testing/fixture.ts";

/**
 * Host-level behaviour of CrunRuntime: crun's intermediate zombies are swept, pod-wide limits,
 * OOM events, log rotation while following, and a host reboot (mounts, processes and crun state
 * gone, data dir kept) turning every container into an exited one the agent will recreate.
 */
function zombieChildren(): number[] {
  const out: number[] = [];
  for (const t of readdirSync("/proc/self/task")) {
    for (const p of readFileSync(`/proc/self/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.startsWith("Z")) out.push(Number(p));
      } catch {}
    }
  }
  return out;
}

describe.skipIf(skipUnless(host.canRunContainers, "crun host behaviour", "needs root and crun"))(
  "CrunRuntime on the host",
  () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await createFixture({ maxLogBytes: 4096 });
    }, 60_000);
    afterAll(async () => {
      await f?.cleanup();
    }, 60_000);

    test("no zombies pile up from crun's intermediate processes or exited containers", async () => {
      const sb = f.sandbox("zombies");
      await f.rt.runPodSandbox(sb);
      for (let i = 0; i < 5; i++) await f.rt.startContainer(f.container(sb, `c${i}`, ["true"]));
      await waitFor(
        async () =>
          (await f.rt.listContainers()).filter((c) => c.podUid === sb.podUid && c.state === "exited")
            .length === 5,
        { what: "exits" },
      );
      await waitFor(() => zombieChildren().length === 0, { what: "no zombie children", timeoutMs: 6000 });
    });

    test("pod-wide limits go on the pod's cgroup; OOM kills are announced as events", async () => {
      const sb = {
        ...f.sandbox("podlimits"),
        resources: { memoryLimitBytes: 48 << 20, cpuLimitMillis: 500 },
      };
      await f.rt.runPodSandbox(sb);
      const cg = detectCgroupHost();
      const path = podCgroupPath(cg, sb.podUid);
      const dir = (c: string) =>
        `${cg.hierarchies.find((h) => cg.mode === "v2" || h.controllers.includes(c))!.mount}${path}`;
      if (cg.mode === "v2")
        expect(readFileSync(`${dir("memory")}/memory.max`, "utf8").trim()).toBe(String(48 << 20));
      else {
        expect(readFileSync(`${dir("memory")}/memory.limit_in_bytes`, "utf8").trim()).toBe(String(48 << 20));
        expect(readFileSync(`${dir("cpu")}/cpu.cfs_quota_us`, "utf8").trim()).toBe("50000");
      }
      const hog = f.container(sb, "hog", ["sh", "-c", "a=$(head -c 80000000 /dev/zero | tr '\\0' x)"], {
        resources: { memoryLimitBytes: 16 << 20 },
      });
      const c = await f.rt.startContainer(hog);
      if (cg.mode !== "v2") await f.nextEvent(f.rt, (e) => e.type === "oom" && e.containerId === c.id);
      const s = await waitFor(
        async () => (await f.rt.listContainers()).find((x) => x.id === c.id && x.state === "exited"),
        { what: "hog exit" },
      );
      expect(s.reason).toBe("OOMKilled");
    });

    test("logs rotate by size without losing a line; a follower reads every line once, in order", async () => {
      const sb = f.sandbox("rotate");
      await f.rt.runPodSandbox(sb);
      // 3,000 lines of 45 bytes as fast as the shell writes them (after the follower is there):
      // ~32 rotations at 4 KiB.
      const script =
        "sleep 1; i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done";
      const c = await f.rt.startContainer(f.container(sb, "chatty", ["sh", "-c", script]));
      const text = await new Response(f.rt.logs(c.id, { follow: true })).text();
      expect(text).toBe(Array.from({ length: 3000 }, (_, i) => `line-${i}-${"x".repeat(32)}\n`).join(""));
      const dir = `${f.dataDir}/containers/${c.id}`;
      // the kubelet's containerLogMaxFiles (5): the live file and four rotated ones
      expect(
        listDir(dir)
          .filter((n) => n.startsWith("container.log.") && n !== "container.log.idx")
          .sort(),
      ).toEqual(["container.log.1", "container.log.2", "container.log.3", "container.log.4"]);
      expect(readFileSync(`${dir}/container.log.1`, "utf8")).toMatch(/^(line-\d+-x{32}\n)+$/);
    });

    test.skipIf(detectCgroupHost().mode !== "hybrid")(
      "hybrid cgroups: one mount-namespace holder, reused by a restarted runtime, without the cgroup2 mount",
      async () => {
        const pidFile = holderPidFile(dataLayout(f.dataDir).runDir);
        const pid = readFileSync(pidFile, "utf8").trim();
        const rt = f.another();
        await rt.start();
        await rt.close();
        expect(readFileSync(pidFile, "utf8").trim()).toBe(pid);
        const mounts = readFileSync(`/proc/${pid}/mountinfo`, "utf8");
        expect(mounts).not.toContain(" - cgroup2 ");
        expect(mounts).toContain(`${f.dataDir}/run `);
        // Killed from outside (a test runner's clean-up did exactly that): the next crun call makes a new one.
        process.kill(Number(pid), "SIGKILL");
        await waitFor(
          () => {
            try {
              return !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(HOLDER_NAME);
            } catch {
              return true; // reaped
            }
          },
          { what: "the holder to die" },
        );
        const sb = f.sandbox("holder");
        await f.rt.runPodSandbox(sb);
        const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "60"]));
        expect(c.state).toBe("running");
        expect(readFileSync(pidFile, "utf8").trim()).not.toBe(pid);
        await f.rt.stopContainer(c.id, 0);
      },
    );

    test("a container whose start was never recorded (crash right after crun run) is adopted, not duplicated", async () => {
      const sb = f.sandbox("halfway");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "60"]));
      const file = `${f.dataDir}/containers/${c.id}/container.json`;
      const rec = JSON.parse(readFileSync(file, "utf8"));
      writeFileSync(
        file,
        JSON.stringify({
          ...rec,
          state: "created",
          pid: undefined,
          pidStart: undefined,
          startedAt: undefined,
        }),
      );
      const rt = f.another();
      await rt.start();
      try {
        const mine = (await rt.listContainers()).filter((x) => x.podUid === sb.podUid);
        expect(mine.map((x) => [x.id, x.state, x.pid])).toEqual([[c.id, "running", c.pid]]);
        expect((await rt.startContainer(f.container(sb, "main", ["sleep", "60"]))).id).toBe(c.id);
        const ev = f.nextEvent(rt, (e) => e.type === "exited" && e.containerId === c.id);
        process.kill(c.pid!, "SIGKILL");
        await ev;
        expect((await rt.listContainers()).find((x) => x.id === c.id)?.exitCode).toBe(137);
      } finally {
        await rt.close();
      }
    });

    test("after a host reboot every container is reported exited and the pod can be set up again", async () => {
      const sb = f.sandbox("reboot");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "600"]));
      await f.rt.close();
      // The "reboot": processes and mounts vanish, crun's state stays on disk, the boot id changes.
      process.kill(c.pid!, "SIGKILL");
      await waitFor(() => {
        try {
          return readFileSync(`/proc/${c.pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z")
            ? zombieChildren()
            : true;
        } catch {
          return true;
        }
      });
      releaseCrunNamespace(dataLayout(f.dataDir).runDir);
      for (const file of [
        `${f.dataDir}/containers/${c.id}/container.json`,
        `${f.dataDir}/pods/${sb.podUid}/sandbox.json`,
        `${f.dataDir}/run/boot-id`,
      ]) {
        const text = readFileSync(file, "utf8");
        writeFileSync(
          file,
          text.replaceAll(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim(), "an-earlier-boot"),
        );
      }
      expect(listDir(`${f.dataDir}/run/crun`)).toContain(c.id);

      const rt = f.another();
      f.rt = rt;
      await rt.start();
      expect(listDir(`${f.dataDir}/run/crun`)).not.toContain(c.id);
      const s = (await rt.listContainers()).find((x) => x.id === c.id);
      expect(s?.state).toBe("exited");
      expect(s?.reason).toBe("ContainerStatusUnknown");
      expect((await rt.listPodSandboxes()).find((x) => x.podUid === sb.podUid)?.ready).toBe(false);
      expect((await rt.runPodSandbox(sb)).ready).toBe(true);
      await rt.removeContainer(c.id);
      const again = await rt.startContainer(f.container(sb, "main", ["sh", "-c", "hostname"]));
      await waitFor(
        async () => (await rt.listContainers()).find((x) => x.id === again.id)?.state === "exited",
      );
      expect(await new Response(rt.logs(again.id, {})).text()).toBe("reboot\n");
    });
  },
);
