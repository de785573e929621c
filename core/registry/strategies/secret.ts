import { type Causes, invalid } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import type { Strategy } from "../strategy.ts";
import { BASE64, CONFIG_KEY, validateImmutableData } from "./config-data.ts";

/**
 * Secrets: type defaults to Opaque; `stringData` is write-only convenience that the API server
 * folds into `data` (base64) and never stores; `data` values must be base64.
 */
export const secretStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: false,
  defaults(obj) {
    obj.type ??= "Opaque";
    const stringData = obj.stringData as Record<string, string> | undefined;
    if (stringData && typeof stringData === "object") {
      const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
      for (const [k, v] of Object.entries(stringData)) data[k] = toBase64(String(v));
      obj.data = data;
    }
    delete obj.stringData;
  },
  validateUpdate: validateImmutableData,
  validate(obj) {
    const causes: Causes = [];
    for (const [k, v] of Object.entries((obj.data as Record<string, unknown> | undefined) ?? {})) {
      if (!CONFIG_KEY.test(k))
        causes.push(
          invalid("data", k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"),
        );
      if (typeof v !== "string" || !BASE64.test(v))
        causes.push(invalid(`data[${k}]`, "<secret contents redacted>", "illegal base64 data"));
    }
    return causes;
  },
};

function toBase64(text: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}
