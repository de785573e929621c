import type { ControllerRevision } from "kubernetes-types/apps/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { type Causes, immutable, invalid } from "../../validation/causes.ts";
import { as, type Strategy } from "../strategy.ts";
import { specLessStrategy } from "./generic.ts";

/** ControllerRevision: an immutable snapshot (`data`) with a non-negative revision number. */
export const controllerRevisionStrategy: Strategy = {
  ...specLessStrategy,
  validate(obj) {
    const rev = as<ControllerRevision>(obj).revision;
    return Number.isInteger(rev) && rev >= 0
      ? []
      : [invalid("revision", rev, "must be greater than or equal to 0")];
  },
  validateUpdate(obj, old): Causes {
    const data = as<ControllerRevision>(obj).data;
    return deepEqual(data, as<ControllerRevision>(old).data) ? [] : [immutable("data", data)];
  },
};
