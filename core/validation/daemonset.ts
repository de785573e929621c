import type { DaemonSet } from "kubernetes-types/apps/v1";
import { type Causes, forbidden, invalid, notSupported } from "./causes.ts";
import { validateWorkloadSpec } from "./workload.ts";

const UPDATE_TYPES = ["RollingUpdate", "OnDelete"];

/** An IntOrString as a number (percent as its number); NaN when neither. */
function amount(v: number | string): number {
  if (typeof v === "number") return Number.isInteger(v) ? v : Number.NaN;
  const m = /^(\d+)%?$/.exec(v.trim());
  return m ? Number(m[1]) : Number.NaN;
}

/** apps/v1 DaemonSet spec: the workload parts, an update strategy, and maxSurge/maxUnavailable not both 0. */
export function validateDaemonSet(ds: DaemonSet): Causes {
  const spec = ds.spec;
  const causes = validateWorkloadSpec(spec);
  if (!spec) return causes;
  const us = spec.updateStrategy;
  if (us?.type && !UPDATE_TYPES.includes(us.type))
    causes.push(notSupported("spec.updateStrategy.type", us.type, UPDATE_TYPES));
  if (us?.type === "OnDelete" && us.rollingUpdate)
    causes.push(
      forbidden("spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"),
    );
  const ru = us?.rollingUpdate;
  if (ru) {
    const f = "spec.updateStrategy.rollingUpdate";
    const surge = amount(ru.maxSurge ?? 0);
    const unavailable = amount(ru.maxUnavailable ?? 1);
    if (Number.isNaN(surge) || surge < 0)
      causes.push(invalid(`${f}.maxSurge`, ru.maxSurge, "must be a non-negative integer or percentage"));
    if (Number.isNaN(unavailable) || unavailable < 0)
      causes.push(
        invalid(`${f}.maxUnavailable`, ru.maxUnavailable, "must be a non-negative integer or percentage"),
      );
    if (surge === 0 && unavailable === 0)
      causes.push(invalid(`${f}.maxUnavailable`, ru.maxUnavailable, "may not be 0 when `maxSurge` is 0"));
  }
  const rhl = spec.revisionHistoryLimit;
  if (rhl !== undefined && rhl < 0)
    causes.push(invalid("spec.revisionHistoryLimit", rhl, "must be greater than or equal to 0"));
  return causes;
}
