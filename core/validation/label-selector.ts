import type { LabelSelector } from "kubernetes-types/meta/v1";
import { type Causes, forbidden, invalid, notSupported, required } from "./causes.ts";
import { qualifiedName } from "./names.ts";
import { validateLabels } from "./object-meta.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/**
 * A structured label selector (matchLabels + matchExpressions), worded as apimachinery's
 * ValidateLabelSelector: In/NotIn need values, Exists/DoesNotExist take none.
 */
export function validateLabelSelector(selector: LabelSelector | undefined, field: string): Causes {
  if (!selector) return [];
  const causes: Causes = validateLabels(selector.matchLabels, `${field}.matchLabels`);
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    if (!OPERATORS.includes(expr.operator as (typeof OPERATORS)[number])) {
      causes.push(notSupported(`${at}.operator`, expr.operator, OPERATORS));
    } else if (expr.operator === "In" || expr.operator === "NotIn") {
      if (!expr.values?.length)
        causes.push(required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (expr.values?.length) {
      causes.push(
        forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
      );
    }
    if (!expr.key) causes.push(required(`${at}.key`));
    else for (const e of qualifiedName(expr.key)) causes.push(invalid(`${at}.key`, expr.key, e));
  });
  return causes;
}
