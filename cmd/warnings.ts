/**
 * The server's `Warning` headers (RFC 7234: `299 - "text"`), as kubectl prints them: one
 * `Warning: text` line on stderr each, and each text once per command (apply's dry run and real
 * write get the same warning; kubectl's default handler deduplicates too).
 */
export function warningTexts(header: string | null): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const m of header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) {
    const quoted = m[1]!;
    try {
      out.push(JSON.parse(`"${quoted}"`));
    } catch {
      out.push(quoted);
    }
  }
  return out;
}

export function createWarningPrinter(write: (line: string) => void = (l) => console.error(l)) {
  const seen = new Set<string>();
  return (headers: Headers): void => {
    for (const text of warningTexts(headers.get("Warning"))) {
      if (seen.has(text)) continue;
      seen.add(text);
      write(`Warning: ${text}`);
    }
  };
}

/** The CLI's one printer: a command's requests share it, so a warning shows once per command. */
export const printWarnings = createWarningPrinter();
