import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { generateSigningKeyPem } from "../core/auth/service-account-tokens.ts";
import { paths } from "../core/config.ts";

/** The service-account signing key: made on first start, kept 0600 in the data dir, reused after. */
export async function ensureServiceAccountKey(dataDir: string): Promise<string> {
  const file = paths.serviceAccountKey(dataDir);
  if (existsSync(file)) return readFileSync(file, "utf8");
  const pem = await generateSigningKeyPem();
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return pem;
}
