import type { StatusCause } from "../errors.ts";

/**
 * Builders for field errors worded like Kubernetes' field.ErrorList, so `kubectl` prints the
 * same `spec.replicas: Invalid value: -1: must be greater than or equal to 0` lines.
 */
export type Causes = StatusCause[];

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!Array.isArray(value) && entries.every(([, v]) => typeof v === "string")) {
      return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(", ")}}`;
    }
    return JSON.stringify(value);
  }
  return String(value);
}

export const required = (field: string, detail = ""): StatusCause => ({
  reason: "FieldValueRequired",
  message: `Required value${detail ? `: ${detail}` : ""}`,
  field,
});

export const invalid = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: "FieldValueInvalid",
  message: `Invalid value: ${show(value)}: ${detail}`,
  field,
});

export const duplicate = (field: string, value: unknown): StatusCause => ({
  reason: "FieldValueDuplicate",
  message: `Duplicate value: ${show(value)}`,
  field,
});

export const notSupported = (field: string, value: unknown, supported: readonly string[]): StatusCause => ({
  reason: "FieldValueNotSupported",
  message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  field,
});

export const forbidden = (field: string, detail: string): StatusCause => ({
  reason: "FieldValueForbidden",
  message: `Forbidden: ${detail}`,
  field,
});

export const immutable = (field: string, value: unknown): StatusCause =>
  invalid(field, value, "field is immutable");
