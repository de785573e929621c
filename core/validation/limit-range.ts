import type { LimitRange, LimitRangeItem } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { parseQuantity } from "../quantity.ts";
import { type Causes, forbidden, invalid, notSupported, required } from "./causes.ts";

const TYPES = ["Pod", "Container", "PersistentVolumeClaim"] as const;

/**
 * A LimitRange as upstream's ValidateLimitRange checks it: a known type per item, quantities
 * that parse and are not negative, and for each resource min ≤ defaultRequest ≤ default ≤ max,
 * a maxLimitRequestRatio of at least 1 and at most max/min; a Pod item takes no defaults.
 */
export function validateLimitRange(obj: KubeObject): Causes {
  const lr = obj as unknown as LimitRange;
  const causes: Causes = [];
  (lr.spec?.limits ?? []).forEach((item, i) => {
    const at = `spec.limits[${i}]`;
    if (!item.type) causes.push(required(`${at}.type`));
    else if (!(TYPES as readonly string[]).includes(item.type))
      causes.push(notSupported(`${at}.type`, item.type, TYPES));
    if (item.type === "Pod") {
      for (const f of ["default", "defaultRequest"] as const)
        if (Object.keys(item[f] ?? {}).length)
          causes.push(forbidden(`${at}.${f}`, "may not be specified when `type` is 'Pod'"));
    }
    const fields = ["min", "max", "default", "defaultRequest", "maxLimitRequestRatio"] as const;
    for (const f of fields)
      for (const [res, q] of Object.entries((item[f] ?? {}) as Record<string, string | number>)) {
        const v = parseQuantity(q);
        if (Number.isNaN(v))
          causes.push(invalid(`${at}.${f}[${res}]`, q, "must be a quantity, e.g. 500m or 1Gi"));
        else if (v < 0) causes.push(invalid(`${at}.${f}[${res}]`, q, "must be greater than or equal to 0"));
      }
    causes.push(...orderCauses(at, item));
  });
  return causes;
}

type Field = "min" | "max" | "default" | "defaultRequest";

/** [smaller, larger, the field the error is reported on, as upstream orders and words them]. */
const ORDER: [Field, Field, Field][] = [
  ["min", "max", "min"],
  ["min", "defaultRequest", "defaultRequest"],
  ["defaultRequest", "max", "defaultRequest"],
  ["defaultRequest", "default", "defaultRequest"],
  ["min", "default", "default"],
  ["default", "max", "default"],
];
const LABEL: Record<Field, string> = {
  min: "min value",
  max: "max value",
  default: "default value",
  defaultRequest: "default request value",
};

function orderCauses(at: string, item: LimitRangeItem): Causes {
  const causes: Causes = [];
  const amounts = (f: Field | "maxLimitRequestRatio") => (item[f] ?? {}) as Record<string, string | number>;
  const names = new Set(
    (["min", "max", "default", "defaultRequest", "maxLimitRequestRatio"] as const).flatMap((f) =>
      Object.keys(amounts(f)),
    ),
  );
  for (const res of names) {
    const get = (f: Field | "maxLimitRequestRatio") =>
      amounts(f)[res] === undefined ? undefined : parseQuantity(amounts(f)[res]);
    for (const [small, large, on] of ORDER) {
      const [a, b] = [get(small), get(large)];
      // "default limit" where the default request is compared with it, as upstream says
      const larger = small === "defaultRequest" && large === "default" ? "default limit value" : LABEL[large];
      if (a !== undefined && b !== undefined && a > b)
        causes.push(
          invalid(
            `${at}.${on}[${res}]`,
            amounts(on)[res],
            `${LABEL[small]} ${amounts(small)[res]} is greater than ${larger} ${amounts(large)[res]}`,
          ),
        );
    }
    const [lo, hi, ratio] = [get("min"), get("max"), get("maxLimitRequestRatio")];
    const shown = amounts("maxLimitRequestRatio")[res];
    if (ratio !== undefined && ratio < 1)
      causes.push(invalid(`${at}.maxLimitRequestRatio[${res}]`, shown, `ratio ${shown} is less than 1`));
    if (ratio !== undefined && lo !== undefined && hi !== undefined && lo > 0 && ratio > hi / lo)
      causes.push(
        invalid(
          `${at}.maxLimitRequestRatio[${res}]`,
          shown,
          `ratio ${shown} is greater than max/min = ${(hi / lo).toFixed(6)}`,
        ),
      );
  }
  return causes;
}
