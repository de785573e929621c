import { afterEach, beforeEach, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import { type Harness, startHarness } from "./testing/agent-harness.ts";

/**
 * Random exits, agent restarts, deletions and time jumps against the invariants a level-triggered
 * agent must keep: never two running attempts of one container, restartCount equal to the newest
 * attempt, nothing left in the runtime for pods that are gone.
 */
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

/** Small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function settled(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await h.agent.idle();
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function checkInvariants(step: string): Promise<void> {
  const pods = (await h.client.list<Pod & KubeObject>("pods")).items;
  const uids = new Set(pods.map((p) => p.metadata.uid));
  const all = [...h.host.containers.values()].map((c) => c.status);
  for (const c of all) {
    if (!uids.has(c.podUid)) expect(`${step}: container of a vanished pod`).toBe("");
  }
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    for (const spec of pod.spec!.containers) {
      const mine = all.filter((c) => c.podUid === pod.metadata.uid && c.name === spec.name);
      const running = mine.filter((c) => c.state === "running");
      expect(
        running.length,
        `${step}: running attempts of ${pod.metadata.name}/${spec.name}`,
      ).toBeLessThanOrEqual(1);
      expect(mine.length, `${step}: kept attempts of ${pod.metadata.name}/${spec.name}`).toBeLessThanOrEqual(
        2,
      );
      expect(new Set(mine.map((c) => c.attempt)).size).toBe(mine.length);
      const newest = Math.max(-1, ...mine.map((c) => c.attempt));
      const status = pod.status?.containerStatuses?.find((s) => s.name === spec.name);
      if (status && newest >= 0) {
        expect(status.restartCount, `${step}: restartCount of ${pod.metadata.name}`).toBe(newest);
      }
    }
  }
}

test("random exits, restarts and deletions keep the agent's invariants", async () => {
  const random = rng(20261129);
  const names = ["a", "b", "c", "d"];
  let created = 0;
  for (let step = 0; step < 120; step++) {
    const r = random();
    const pods = (await h.client.list("pods")).items;
    if (r < 0.15 || pods.length === 0) {
      const name = `${names[Math.floor(random() * names.length)]}-${created++}`;
      const policy = ["Always", "OnFailure", "Never"][Math.floor(random() * 3)];
      await h.createPod(name, {
        restartPolicy: policy,
        containers: [
          { name: "main", image: "busybox:1.36" },
          { name: "side", image: "busybox:1.36" },
        ],
      });
    } else if (r < 0.6) {
      const running = [...h.host.containers.values()].filter((c) => c.status.state === "running");
      const victim = running[Math.floor(random() * running.length)];
      if (victim) h.fake.exit(victim.status.id, random() < 0.5 ? 0 : 1, { oom: random() < 0.1 });
    } else if (r < 0.75) {
      h.clock.advance(Math.floor(random() * 40_000));
    } else if (r < 0.85) {
      const pod = pods[Math.floor(random() * pods.length)]!;
      await h.client
        .delete("pods", "default", pod.metadata.name!, { gracePeriodSeconds: random() < 0.5 ? 0 : 5 })
        .catch(() => {});
    } else {
      await h.restartAgent();
    }
    await settled();
    await checkInvariants(`step ${step}`);
  }
  // In the end every pod still being deleted goes away, and so does everything it ran.
  h.clock.advance(60_000);
  await waitFor(async () => (await h.client.list("pods")).items.every((p) => !p.metadata.deletionTimestamp), {
    what: "terminating pods to go",
  });
  await settled();
  await checkInvariants("end");
});
