import type { StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { NameRule } from "../validation/names.ts";

/**
 * What differs per kind, in the spirit of kube-apiserver's REST strategies. The registry runs
 * the generic steps (metadata, generation, preconditions, deletion) and calls these hooks.
 * Hooks mutate the object in place; validators return causes (empty = valid).
 */
export interface Strategy {
  nameRule: NameRule;
  /** Kinds with a spec track metadata.generation (bumped on every spec change). */
  hasGeneration: boolean;
  /** Resets server-owned fields on create (typically status). */
  prepareForCreate?(obj: KubeObject): void;
  /** Carries server-owned fields over from the stored object on a spec update. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Fills API defaults; runs on every write, so it must be idempotent. */
  defaults?(obj: KubeObject): void;
  validate?(obj: KubeObject): StatusCause[];
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
  /**
   * Writes of the status subresource: prepares (prunes, defaults) the new status in place and
   * returns its problems. Kinds without it take any status.
   */
  validateStatus?(obj: KubeObject): StatusCause[];
  /** Warnings for a valid write (kube-apiserver's WarningsOnCreate/WarningsOnUpdate). */
  warnings?(obj: KubeObject): string[];
  /**
   * Seconds of graceful deletion for this object, or 0 to remove it at once. Only pods are
   * deleted gracefully.
   */
  gracePeriodSeconds?(obj: KubeObject, requested: number | undefined): number;
}

/** kubernetes-types marks every field readonly; the registry is where objects get written. */
export type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/** Views an object as its kubernetes-types type, writable. */
export function as<T>(obj: KubeObject): Mutable<T> {
  return obj as unknown as Mutable<T>;
}
