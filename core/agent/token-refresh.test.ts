import { describe, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { createManualClock } from "../loop/testing/manual-clock.ts";
import type { KubeObject } from "../object.ts";
import { useRegistry } from "../registry/testing/test-fixture.ts";
import { FakeRuntime } from "../seams/testing/fake-runtime.ts";
import { createTokenRefresher } from "./token-refresh.ts";

describe("projected token renewal", () => {
  const f = useRegistry();

  async function runningPod(name: string, expirationSeconds?: number): Promise<KubeObject> {
    const pod: KubeObject = await f.registry.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: "n1",
        containers: [{ name: "c", image: "busybox" }],
        volumes: [
          {
            name: "vault-token",
            projected: {
              sources: [{ serviceAccountToken: { path: "token", audience: "vault", expirationSeconds } }],
            },
          },
          { name: "plain", emptyDir: {} },
        ],
      },
    });
    return f.registry.updateStatus("pods", {
      ...pod,
      status: { ...(pod.status as object), phase: "Running" },
    });
  }

  test("tokens are rewritten in place at 80 % of their life, and forgotten with their pod", async () => {
    const clock = createManualClock();
    const runtime = new FakeRuntime();
    let n = 0;
    const audiences: string[] = [];
    const refresher = createTokenRefresher({
      client: f.registry,
      runtime,
      nodeName: "n1",
      clock,
      log: () => {},
      tokenFor: async (_pod: Pod, p) => {
        audiences.push(p.audience ?? "");
        return `token-${++n}`;
      },
    });
    const pod = await runningPod("web", 600);
    const key = `${pod.metadata.uid}/vault-token`;
    expect(await refresher.refreshDue()).toBe(1);
    expect(runtime.volumeFiles.get(key)).toEqual({ token: "token-1" });
    clock.advance(479_000);
    expect(await refresher.refreshDue()).toBe(0);
    clock.advance(1_000);
    expect(await refresher.refreshDue()).toBe(1);
    expect(runtime.volumeFiles.get(key)).toEqual({ token: "token-2" });
    expect(audiences).toEqual(["vault", "vault"]);
    await f.registry.delete("pods", "default", "web", { gracePeriodSeconds: 0 });
    expect(await refresher.refreshDue()).toBe(0);
  });

  test("pods on other nodes are left alone; without a token source nothing happens", async () => {
    const runtime = new FakeRuntime();
    await runningPod("web");
    const refresher = (nodeName: string, tokenFor?: () => Promise<string>) =>
      createTokenRefresher({
        client: f.registry,
        runtime,
        nodeName,
        clock: createManualClock(),
        log: () => {},
        tokenFor,
      });
    expect(await refresher("n2", async () => "t").refreshDue()).toBe(0);
    expect(await refresher("n1").refreshDue()).toBe(0);
    expect(runtime.volumeFiles.size).toBe(0);
  });
});
