import { createFakePolicyEnforcer } from "./fake-policy-enforcer.ts";
import { runPolicyEnforcerSuite } from "./policy-enforcer-suite.ts";

runPolicyEnforcerSuite("fake", async () => {
  const enforcer = createFakePolicyEnforcer();
  const pods: [string, string, string] = ["10.0.0.2", "10.0.0.3", "10.0.0.4"];
  return {
    enforcer,
    pods,
    connects: async (from, to) =>
      enforcer.allows({ from: pods[from]!, to: pods[to]!, protocol: "TCP", port: 80 }),
    close: async () => {},
  };
});
