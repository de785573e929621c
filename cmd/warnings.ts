/**
 * The messages of `Warning` response headers (`299 - "text"`, several joined by commas when a
 * response carries more than one), as kubectl prints them: `Warning: text` on stderr.
 */
export function parseWarnings(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const m of header.matchAll(/\d{3}\s+\S+\s+("(?:[^"\\]|\\.)*")/g)) {
    try {
      out.push(JSON.parse(m[1]!) as string);
    } catch {
      out.push(m[1]!.slice(1, -1));
    }
  }
  return out;
}

/** Prints each warning once per process, as kubectl's deduplicating warning writer does. */
export function createWarningPrinter(write: (line: string) => void = (l) => process.stderr.write(l)) {
  const seen = new Set<string>();
  return (header: string | null) => {
    for (const w of parseWarnings(header)) {
      if (seen.has(w)) continue;
      seen.add(w);
      write(`Warning: ${w}\n`);
    }
  };
}
