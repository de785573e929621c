import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CORE_SCHEMA, loadAll, YAMLException } from "js-yaml";
import type { KubeObject } from "../core/object.ts";
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
  if (target === "-") {
    // loaded only here: the platform adapter is not needed to read a file
    const { platform } = await import("./platform/index.ts");
    return parseManifests(await platform.readStdin(), "-");
  }
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
 * Parses multi-document YAML (or JSON) with YAML 1.2's core schema, as `yaml`'s default does
 * (`yes` stays a string, no merge keys, no timestamps), duplicate keys rejected. js-yaml, not
 * `yaml`: every `minik apply -f` parses its file cold, and js-yaml does that in ~1 ms where
 * `yaml` took ~4.5 ms (issue 17's seed flow). A syntax error anywhere rejects the whole file
 * with its line and column, so nothing from a broken file is applied.
 */
export function parseManifests(text: string, source: string): Manifest[] {
  let docs: unknown[];
  try {
    // an alias is shared, not copied, but the JSON sent to the server spells it out each time
    docs = loadAll(text, { schema: CORE_SCHEMA, maxAliases: MAX_ALIASES });
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    const at = e.mark ? `line ${e.mark.line + 1}, column ${e.mark.column + 1}: ` : "";
    throw new ManifestError(`error parsing ${source}: ${at}${firstLine(e.reason)}`);
  }
  const lines = documentLines(text);
  const out: Manifest[] = [];
  for (const [i, value] of docs.entries()) {
    if (value === null || value === undefined) continue;
    const where = `${source} (document ${out.length + 1}, line ${lines[i] ?? 1})`;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new ManifestError(
        `error parsing ${where}: a manifest must be a mapping with apiVersion and kind`,
      );
    }
    const doc = value as { kind?: unknown; items?: unknown };
    for (const obj of doc.kind === "List" && Array.isArray(doc.items) ? doc.items : [value]) {
      if (!obj?.apiVersion || !obj?.kind) {
        throw new ManifestError(`error validating ${where}: apiVersion and kind are required`);
      }
      obj.metadata ??= {};
      out.push({ source: where, object: obj as KubeObject });
    }
  }
  return out;
}

/** The same bound as `yaml`'s maxAliasCount: a few anchors are normal, thousands are an attack. */
const MAX_ALIASES = 100;

/**
 * The line each document starts on (1-based), for messages: the first document's first line with
 * content, then the line of each `---` that opens another. A `---` at the very top opens the
 * first document rather than ending an empty one, as the parser counts them.
 */
function documentLines(text: string): number[] {
  const markers: number[] = [];
  let before: number | undefined; // the first line with content before any `---`
  for (const [i, line] of text.split("\n").entries()) {
    if (/^---(\s|$)/.test(line)) markers.push(i + 1);
    else if (markers.length === 0 && before === undefined && /^[^#%\s]/.test(line)) before = i + 1;
  }
  return before !== undefined || markers.length === 0 ? [before ?? 1, ...markers] : markers;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
