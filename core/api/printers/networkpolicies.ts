import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { labelSelectorToString } from "../../selectors.ts";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

/** kubectl's NetworkPolicy columns: NAME, POD-SELECTOR (`<none>` selects every pod), AGE. */
export const networkPolicyPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Pod-Selector",
      "string",
      "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is optional. If it is not specified, it defaults to an empty selector. An empty podSelector matches all pods in this namespace.",
    ),
    ageColumn,
  ],
  cells(obj, now) {
    const np = obj as unknown as NetworkPolicy;
    return [
      np.metadata?.name,
      labelSelectorToString(np.spec?.podSelector) || "<none>",
      since(np.metadata?.creationTimestamp, now),
    ];
  },
};
