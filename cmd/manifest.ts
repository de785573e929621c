import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import type { KubeObject } from "../core/object.ts";
import { platform } from "./platform/index.ts";
import { UsageError } from "./usage-error.ts";

export interface Manifest {
  /** file path (or "-" for stdin) and document index, for messages */
  source: string;
  object: KubeObject;
}

/** A manifest the user named cannot be read: a usage mistake, printed as one line. */
export class ManifestError extends UsageError {}

/** Reads every manifest of FILE, DIR (*.yaml, *.yml, *.json, sorted) or "-" (stdin). */
export async function readManifests(target: string): Promise<Manifest[]> {
  if (target === "-") return parseManifests(await platform.readStdin(), "-");
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(target);
  } catch {
    throw new ManifestError(`the path "${target}" does not exist`);
  }
  if (st.isDirectory()) {
    const files = readdirSync(target)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort();
    const all: Manifest[] = [];
    for (const f of files)
      all.push(...parseManifests(readFileSync(join(target, f), "utf8"), join(target, f)));
    return all;
  }
  return parseManifests(readFileSync(target, "utf8"), target);
}

/**
 * Parses multi-document YAML (or JSON). A syntax error anywhere rejects the whole file with its
 * line and column, so nothing from a broken file is applied.
 */
export function parseManifests(text: string, source: string): Manifest[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const out: Manifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const err = doc.errors[0];
    if (err) {
      const pos = lineCounter.linePos(err.pos[0]);
      throw new ManifestError(
        `error parsing ${source}: line ${pos.line}, column ${pos.col}: ${firstLine(err.message)}`,
      );
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    const where = `${source} (document ${out.length + 1}, line ${lineCounter.linePos(doc.range[0]).line})`;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new ManifestError(
        `error parsing ${where}: a manifest must be a mapping with apiVersion and kind`,
      );
    }
    for (const obj of value.kind === "List" && Array.isArray(value.items) ? value.items : [value]) {
      if (!obj?.apiVersion || !obj?.kind) {
        throw new ManifestError(`error validating ${where}: apiVersion and kind are required`);
      }
      obj.metadata ??= {};
      out.push({ source: where, object: obj as KubeObject });
    }
  }
  return out;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
