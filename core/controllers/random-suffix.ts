import { SAFE_ALPHABET } from "./pod-template-hash.ts";

/** A random suffix like kube-apiserver's generateName: 5 letters of the safe alphabet. */
export function randomSuffix(length = 5): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => SAFE_ALPHABET[b % SAFE_ALPHABET.length]).join("");
}
