import { writeFileSync } from "node:fs";
import type { PolicyEnforcer, PolicyView } from "../../core/seams/policy-enforcer.ts";
import { runOk } from "./exec.ts";
import { latestOnly } from "./latest-only.ts";
import { renderPolicyRuleset } from "./nft-policy-ruleset.ts";
import { deleteNftTable } from "./nft-proxy.ts";
import { readSysctl } from "./sysctl.ts";

/**
 * The NetworkPolicy data path: one nftables table (`ip <proxy table>_policy`), replaced atomically
 * by one `nft -f` per change; only the latest view matters, so a sync asked for while one runs is
 * folded into the next. Pod ↔ pod traffic on the bridge reaches the table's forward hook only
 * through br_netfilter (`net.bridge.bridge-nf-call-iptables=1`, as Kubernetes' bridge-based
 * plugins require): a sync that isolates pods turns it on when it is off, and says so when the
 * kernel lacks it.
 */
export interface NftPolicyEnforcer extends PolicyEnforcer {
  readonly table: string;
  /** Deletes the table. */
  cleanup(): Promise<void>;
}

const BRIDGE_NF = "net.bridge.bridge-nf-call-iptables";

export function createNftPolicyEnforcer(options: {
  table: string;
  bridge: string;
  log?: (message: string) => void;
}): NftPolicyEnforcer {
  const { table } = options;
  let latest: PolicyView[] = [];
  let bridgeChecked = false;

  async function applyNow(): Promise<void> {
    const policies = latest;
    if (!bridgeChecked && policies.some((p) => p.pods.length)) {
      ensureBridgeFiltering(options.log);
      bridgeChecked = true;
    }
    const text = renderPolicyRuleset({ table, bridge: options.bridge, policies });
    await runOk(["nft", "-f", "-"], text, `loading nftables table ${table} (NetworkPolicies)`);
  }

  const applier = latestOnly(applyNow);
  const apply = applier.run;

  return {
    table,
    sync(policies) {
      latest = policies;
      return apply();
    },
    async cleanup() {
      latest = [];
      await applier.idle();
      await deleteNftTable(table);
    },
  };
}

function ensureBridgeFiltering(log = (m: string) => console.error(m)): void {
  const value = readSysctl(BRIDGE_NF);
  if (value === undefined) {
    log(
      "NetworkPolicy: net.bridge.bridge-nf-call-iptables is missing (no br_netfilter): traffic between pods on the bridge is not filtered; load it with modprobe br_netfilter",
    );
    return;
  }
  if (value === "1") return;
  try {
    writeFileSync(`/proc/sys/${BRIDGE_NF.replaceAll(".", "/")}`, "1");
    log("NetworkPolicy: set net.bridge.bridge-nf-call-iptables=1 so traffic between pods is filtered");
  } catch (e) {
    log(`NetworkPolicy: could not set net.bridge.bridge-nf-call-iptables=1: ${(e as Error).message}`);
  }
}
