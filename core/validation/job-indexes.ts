import type { JobSpec, SuccessPolicyRule } from "kubernetes-types/batch/v1";
import { type Causes, invalid, required } from "./causes.ts";

/**
 * Validation of the Indexed-Job policies, worded as pkg/apis/batch/validation: backoffLimitPerIndex
 * and maxFailedIndexes (Indexed only, within completions), and successPolicy (Indexed only, 1–20
 * rules, each naming succeededIndexes and/or succeededCount that fit completions).
 */
const MAX_FAILED_INDEXES = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const MAX_SUCCESS_POLICY_RULES = 20;
const MAX_SUCCEEDED_INDEXES_BYTES = 64 * 1024;

export function validateIndexPolicies(spec: JobSpec, path: string): Causes {
  const causes: Causes = [];
  const indexed = spec.completionMode === "Indexed";
  const { backoffLimitPerIndex: perIndex, maxFailedIndexes: maxFailed, completions } = spec;
  for (const [k, v] of [
    ["backoffLimitPerIndex", perIndex],
    ["maxFailedIndexes", maxFailed],
  ] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0)
      causes.push(invalid(`${path}.${k}`, v, "must be greater than or equal to 0"));
    if (!indexed) causes.push(invalid(`${path}.${k}`, v, "requires indexed completion mode"));
  }
  if (maxFailed !== undefined) {
    if (perIndex === undefined)
      causes.push(required(`${path}.backoffLimitPerIndex`, "when maxFailedIndexes is specified"));
    if (indexed && completions !== undefined && maxFailed > completions)
      causes.push(
        invalid(`${path}.maxFailedIndexes`, maxFailed, "must be less than or equal to completions"),
      );
    if (indexed && maxFailed > MAX_FAILED_INDEXES)
      causes.push(
        invalid(`${path}.maxFailedIndexes`, maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES}`),
      );
  }
  if (
    indexed &&
    perIndex !== undefined &&
    (completions ?? 0) > COMPLETIONS_SOFT_LIMIT &&
    maxFailed === undefined
  )
    causes.push(
      required(
        `${path}.maxFailedIndexes`,
        `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`,
      ),
    );
  if (spec.successPolicy) causes.push(...validateSuccessPolicy(spec, `${path}.successPolicy`));
  return causes;
}

function validateSuccessPolicy(spec: JobSpec, path: string): Causes {
  if (spec.completionMode !== "Indexed")
    return [invalid(path, spec.successPolicy, "requires indexed completion mode")];
  const rules = spec.successPolicy?.rules ?? [];
  const causes: Causes = [];
  if (!rules.length)
    causes.push(
      required(`${path}.rules`, "at least one rules must be specified when the successPolicy is specified"),
    );
  if (rules.length > MAX_SUCCESS_POLICY_RULES)
    causes.push({
      reason: "FieldValueTooMany",
      message: `Too many: ${rules.length}: must have at most ${MAX_SUCCESS_POLICY_RULES} items`,
      field: `${path}.rules`,
    });
  for (const [i, rule] of rules.slice(0, MAX_SUCCESS_POLICY_RULES).entries())
    causes.push(...validateSuccessRule(rule, spec.completions ?? 0, `${path}.rules[${i}]`));
  return causes;
}

function validateSuccessRule(rule: SuccessPolicyRule, completions: number, path: string): Causes {
  const causes: Causes = [];
  const { succeededIndexes: indexes, succeededCount: count } = rule;
  if (indexes === undefined && count === undefined)
    causes.push(required(path, "at least one of succeededCount or succeededIndexes must be specified"));
  let total = 0;
  if (indexes !== undefined) {
    if (indexes.length > MAX_SUCCEEDED_INDEXES_BYTES)
      causes.push({
        reason: "FieldValueTooLong",
        message: `Too long: must have at most ${MAX_SUCCEEDED_INDEXES_BYTES} bytes`,
        field: `${path}.succeededIndexes`,
      });
    else {
      const parsed = countIndexes(indexes, completions);
      if (typeof parsed === "string")
        causes.push(
          invalid(`${path}.succeededIndexes`, indexes, `error parsing succeededIndexes: ${parsed}`),
        );
      else total = parsed;
    }
  }
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 0)
      causes.push(invalid(`${path}.succeededCount`, count, "must be greater than or equal to 0"));
    if (count > completions)
      causes.push(
        invalid(
          `${path}.succeededCount`,
          count,
          `must be less than or equal to ${completions} (the number of specified completions)`,
        ),
      );
    if (indexes !== undefined && count > total)
      causes.push(
        invalid(
          `${path}.succeededCount`,
          count,
          `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`,
        ),
      );
  }
  return causes;
}

/** How many indexes `1,3-5` names, or why it cannot be read (upstream's validateIndexesFormat). */
export function countIndexes(text: string, completions: number): number | string {
  if (!text) return 0;
  let last: number | undefined;
  let total = 0;
  for (const fragment of text.split(",")) {
    const parts = fragment.split("-");
    if (parts.length > 2)
      return `the fragment ${JSON.stringify(fragment)} violates the requirement that an index interval can have at most two parts separated by '-'`;
    const bounds: number[] = [];
    for (const part of parts) {
      if (!/^[+-]?\d+$/.test(part))
        return `cannot convert string to integer for index: ${JSON.stringify(part)}`;
      if (Number(part) >= completions) return `too large index: ${JSON.stringify(part)}`;
      bounds.push(Number(part));
    }
    const [x, y = x] = bounds as [number, number?];
    if (parts.length === 2 && x >= y) return `non-increasing order, previous: ${x}, current: ${y}`;
    if (last !== undefined && last >= x) return `non-increasing order, previous: ${last}, current: ${x}`;
    total += y - x + 1;
    last = y;
  }
  return total;
}
