import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPolicyEnforcerSuite } from "../../core/seams/testing/policy-enforcer-suite.ts";
import { host, skipUnless } from "../../test/support/env.ts";
import { hasNftTable } from "./nft-proxy.ts";
import { createNodeNetwork } from "./node-network.ts";
import { startHttpd, wgetFrom } from "./testing/test-hosts.ts";

/** The PolicyEnforcer contract on nftables, between real network namespaces on a bridge of its own. */
const names = {
  bridge: "minikt7",
  table: "minik_test7",
  podCidr: "10.249.0.0/24",
  serviceCidr: "10.246.0.0/24",
  netnsPrefix: "miniktp-",
  vethPrefix: "vmp",
};

runPolicyEnforcerSuite(
  "nftables",
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "minik-netpol-"));
    const net = await createNodeNetwork({ dataDir, ...names });
    const pods = await Promise.all(["p0", "p1", "p2"].map((n) => net.podNetwork.setup(`policy-${n}`)));
    const servers = await Promise.all(pods.map((p, i) => startHttpd(p.netnsPath, `p${i}`)));
    return {
      enforcer: net.policy,
      pods: [pods[0]!.ip, pods[1]!.ip, pods[2]!.ip],
      connects: async (from, to) =>
        (await wgetFrom(pods[from]!.netnsPath, `http://${pods[to]!.ip}/`, 2)) === `p${to}`,
      async close() {
        await Promise.all(servers.map((s) => s.stop()));
        await net.cleanupAll();
        rmSync(dataDir, { recursive: true, force: true });
        if (await hasNftTable(net.policy.table)) throw new Error(`nft table ${net.policy.table} left behind`);
      },
    };
  },
  {
    skip: skipUnless(
      host.canUseNetns && host.canUseNftables,
      "nft policy enforcer",
      "needs root, ip and nft",
    ),
  },
);
