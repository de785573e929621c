import { tracked } from "../supervise/exit-watcher.ts";
/**
 * Runs the kernel tools minik's networking drives (`ip`, `nft`). Every failure carries the
 * command line and the tool's stderr, so the one line a user sees says what was attempted.
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], input?: string): Promise<RunResult> {
  // tracked: the runtime's zombie sweep must not reap what Bun is waiting for (ECHILD)
  const proc = tracked(
    Bun.spawn(argv, {
      stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Like `run`, but throws when the command fails. */
export async function runOk(argv: string[], input?: string, what?: string): Promise<string> {
  const result = await run(argv, input);
  if (result.code !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;
    throw new Error(`${what ? `${what}: ` : ""}${argv.join(" ")} failed: ${detail}`);
  }
  return result.stdout;
}
