import { dns1123Subdomain } from "../../validation/names.ts";
import type { Strategy } from "../strategy.ts";
import { validateConfigMapData, validateImmutableData } from "./config-data.ts";

/** Kinds with no special rules: name is a DNS subdomain; a spec, if any, tracks generation. */
export const genericStrategy: Strategy = { nameRule: dns1123Subdomain, hasGeneration: true };

/** Kinds without a spec (ConfigMap, Secret, Event, …) carry no generation. */
export const specLessStrategy: Strategy = { nameRule: dns1123Subdomain, hasGeneration: false };

export const nodeStrategy: Strategy = { nameRule: dns1123Subdomain, hasGeneration: false };

export const configMapStrategy: Strategy = {
  ...specLessStrategy,
  validate: validateConfigMapData,
  validateUpdate: validateImmutableData,
};
