/**
 * cac (mri) reads a lone "-" after an option as no value, so `-f -` failed with "value is
 * missing". kubectl's `-f -` means stdin: rewrite it to `--filename=-` before parsing. Arguments
 * after `--` (exec's command) are left alone.
 */
export function stdinFilenameArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return [...out, ...argv.slice(i)];
    if ((arg === "-f" || arg === "--filename") && argv[i + 1] === "-") {
      out.push("--filename=-");
      i++;
    } else out.push(arg);
  }
  return out;
}
