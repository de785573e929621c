import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The filesystem path of a `file:` URL (`file:/abs`, `file:///abs`, `file:rel`), else undefined. */
export function databasePath(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  let path = url.slice("file:".length).replace(/\?.*$/, "");
  if (path.startsWith("//")) path = path.slice(2);
  return decodeURIComponent(path);
}

/**
 * Makes sure a new database file can be created and is private: the store holds Secrets, so the
 * file is created 0600 (SQLite gives its -wal and -shm files the same mode) and a missing
 * directory 0700. An existing file is left as it is.
 */
export function prepareDatabaseFile(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // An empty file is a valid, empty SQLite database.
  writeFileSync(path, "", { mode: 0o600, flag: "wx" });
}
