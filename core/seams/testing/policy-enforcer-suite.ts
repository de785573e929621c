import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PolicyEnforcer, PolicyRuleView, PolicyView } from "../policy-enforcer.ts";

/**
 * The PolicyEnforcer contract, run on the fake (core) and on nftables over real network
 * namespaces (runtime/net): what a sync lets through is what Kubernetes' NetworkPolicy semantics
 * say, the moment `sync` resolves.
 */
export interface PolicyEnforcerHarness {
  enforcer: PolicyEnforcer;
  /** Three pod addresses, each serving TCP port 80. */
  pods: [string, string, string];
  /** Whether a new TCP connection from pod `from` to pod `to`, port 80, succeeds now. */
  connects(from: number, to: number): Promise<boolean>;
  close(): Promise<void>;
}

export function runPolicyEnforcerSuite(
  name: string,
  setup: () => Promise<PolicyEnforcerHarness>,
  options: { skip?: boolean } = {},
): void {
  describe.skipIf(!!options.skip)(`PolicyEnforcer conformance: ${name}`, () => {
    let h: PolicyEnforcerHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.close();
    });
    const ip = (i: number) => h.pods[i]!;
    const pairs = async (list: [number, number][]) =>
      Promise.all(list.map(([from, to]) => h.connects(from, to)));

    test("without policies every pod connects to every pod", async () => {
      await h.enforcer.sync([]);
      expect(
        await pairs([
          [0, 1],
          [1, 0],
          [2, 0],
        ]),
      ).toEqual([true, true, true]);
    });

    test("a default deny isolates only the selected pod; its own connections (and their replies) pass", async () => {
      await h.enforcer.sync([{ key: "t/deny", pods: [ip(0)], ingress: [] }]);
      expect(
        await pairs([
          [1, 0],
          [0, 1],
          [2, 1],
        ]),
      ).toEqual([false, true, true]);
    });

    test("allow rules reopen for their peers and ports only; policies add up", async () => {
      const deny: PolicyView = { key: "t/deny", pods: [ip(0)], ingress: [] };
      const from1 = (rule: Omit<PolicyRuleView, "peers">): PolicyView[] => [
        deny,
        { key: "t/allow", pods: [ip(0)], ingress: [{ peers: [ip(1)], ...rule }] },
      ];
      await h.enforcer.sync(from1({}));
      expect(
        await pairs([
          [1, 0],
          [2, 0],
        ]),
      ).toEqual([true, false]);
      await h.enforcer.sync(from1({ ports: [{ protocol: "TCP", from: 81, to: 90 }], namedPorts: [] }));
      expect(await h.connects(1, 0)).toBe(false);
      await h.enforcer.sync(
        from1({
          ports: [{ protocol: "UDP", from: 80, to: 80 }],
          namedPorts: [{ ip: ip(0), protocol: "TCP", port: 80 }],
        }),
      );
      expect(await h.connects(1, 0)).toBe(true);
    });

    test("egress isolation: only allowed destinations; others still reach the pod", async () => {
      await h.enforcer.sync([{ key: "t/egress", pods: [ip(0)], egress: [{ peers: [`${ip(2)}-${ip(2)}`] }] }]);
      expect(
        await pairs([
          [0, 1],
          [0, 2],
          [1, 0],
        ]),
      ).toEqual([false, true, true]);
    });

    test("the latest of overlapping syncs wins; an empty view lifts every isolation", async () => {
      const deny: PolicyView[] = [{ key: "t/deny", pods: [ip(0), ip(1), ip(2)], ingress: [], egress: [] }];
      await Promise.all([h.enforcer.sync([]), h.enforcer.sync(deny)]);
      expect(
        await pairs([
          [1, 0],
          [0, 2],
        ]),
      ).toEqual([false, false]);
      await Promise.all([h.enforcer.sync(deny), h.enforcer.sync([])]);
      expect(
        await pairs([
          [1, 0],
          [0, 2],
          [2, 1],
        ]),
      ).toEqual([true, true, true]);
    });
  });
}
