import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { host, skipUnless } from "../../test/support/env.ts";
import type { PodNetwork } from "../net/pod-network.ts";
import { createFixture, type Fixture } from "./testing/fixture.ts";

/**
 * The guard that keeps the machine reachable: a pod on the host's network is never given to the
 * PodNetwork, and no sandbox's tear-down ever releases the host's own network namespace — not
 * even one whose network handed back the host's namespace by mistake.
 */
describe.skipIf(skipUnless(host.canRunContainers, "crun host network", "needs root and crun"))(
  "CrunRuntime and the host's network",
  () => {
    let f: Fixture;
    const calls: string[] = [];
    /** A PodNetwork that records what it is asked and (wrongly) hands out the host's netns. */
    const network = {
      bridge: "minikt-none",
      gateway: "10.99.0.1",
      podCidr: "10.99.0.0/16",
      ensureBridge: async () => {},
      setup: async (uid: string) => {
        calls.push(`setup ${uid}`);
        return { podUid: uid, ip: "10.99.0.2", netnsPath: "/proc/self/ns/net" };
      },
      teardown: async (uid: string) => {
        calls.push(`teardown ${uid}`);
      },
      list: async () => [],
      reconcile: async () => [],
      cleanupAll: async () => {},
    } satisfies PodNetwork;
    const hostNetns = () => statSync("/proc/self/ns/net").ino;
    const interfaces = () => readdirSync("/sys/class/net").sort();
    const loUp = () => readFileSync("/sys/class/net/lo/operstate", "utf8").trim();

    beforeAll(async () => {
      f = await createFixture({ network });
    }, 60_000);
    afterAll(async () => {
      await f?.cleanup();
    }, 60_000);

    test("a hostNetwork sandbox never reaches the PodNetwork; stop and remove leave the host as it was", async () => {
      const [netns, links, lo] = [hostNetns(), interfaces(), loUp()];
      const sb = { ...f.sandbox("on-host"), hostNamespaces: { network: true } };
      const status = await f.rt.runPodSandbox(sb);
      expect(status.ip).toBeUndefined();
      const c = await f.rt.startContainer(f.container(sb, "ls", ["sleep", "3600"]));
      const seen = await f.rt.inspect(c.id);
      expect(seen.namespaces.find((n) => n.type === "net")).toMatchObject({
        inode: netns,
        sharedWith: "host",
      });
      await f.rt.stopPodSandbox(sb.podUid);
      await f.rt.removePodSandbox(sb.podUid);
      expect(calls).toEqual([]);
      expect([hostNetns(), interfaces(), loUp()]).toEqual([netns, links, lo]);
    });

    test("a sandbox whose network is the host's own is not torn down (belt and braces)", async () => {
      const [netns, links] = [hostNetns(), interfaces()];
      const sb = f.sandbox("handed-host-netns");
      expect((await f.rt.runPodSandbox(sb)).ip).toBe("10.99.0.2");
      await f.rt.stopPodSandbox(sb.podUid);
      await f.rt.removePodSandbox(sb.podUid);
      expect(calls).toEqual([`setup ${sb.podUid}`]);
      expect([hostNetns(), interfaces()]).toEqual([netns, links]);
    });
  },
);
