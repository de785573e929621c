import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { host, skipUnless } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const ROOT = join(import.meta.dir, "../..");
const DOC = join(ROOT, "docs/walkthrough.md");

interface Step {
  command: string;
  expected: string[];
}

/** Every `$ command` of the doc's console blocks, with the lines up to the next command. */
export function parseWalkthrough(markdown: string): Step[] {
  const steps: Step[] = [];
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ command: line.slice(2), expected: [] });
      else if (line.trim() && steps.length) steps.at(-1)!.expected.push(line);
    }
  }
  return steps;
}

const squash = (s: string) => s.trim().replace(/\s+/g, " ");

/** One expected line as a regex: `…` is any text, runs of blanks are any blanks. */
function linePattern(line: string): RegExp {
  const parts = squash(line)
    .split("…")
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/** True when the output matches: each line in order, a lone `…` standing for any lines. */
export function matchesTranscript(expected: string[], output: string): boolean {
  const actual = output.split("\n").map(squash).filter(Boolean);
  const want = expected.map(squash);
  const memo = new Map<string, boolean>();
  const match = (e: number, a: number): boolean => {
    const key = `${e}/${a}`;
    if (memo.has(key)) return memo.get(key)!;
    let ok: boolean;
    if (e === want.length) ok = a === actual.length;
    else if (want[e] === "…") ok = match(e + 1, a) || (a < actual.length && match(e, a + 1));
    else ok = a < actual.length && linePattern(want[e]!).test(actual[a]!) && match(e + 1, a + 1);
    memo.set(key, ok);
    return ok;
  };
  return match(0, 0);
}

describe("the transcript matcher", () => {
  test("wildcards stand for text in a line, a lone … for any lines; anything else must match", () => {
    expect(matchesTranscript(["pod/busy created"], "pod/busy created\n")).toBe(true);
    expect(matchesTranscript(["pod/busy created"], "pod/busy configured\n")).toBe(false);
    expect(matchesTranscript(["PID: … on the host, 1 inside"], "PID:   42 on the host, 1 inside")).toBe(true);
    expect(
      matchesTranscript(["…", "D /etc/group (whiteout)", "…"], "a\nb\n  D /etc/group  (whiteout)\nc"),
    ).toBe(true);
    expect(matchesTranscript(["…", "D /etc/group (whiteout)", "…"], "a\nb\nc")).toBe(false);
    expect(matchesTranscript(["busy"], "busy\nextra")).toBe(false);
  });

  test("the walkthrough has the article's steps", () => {
    const commands = parseWalkthrough(readFileSync(DOC, "utf8")).map((s) => s.command);
    for (const c of ["minik inspect pod/busy", "minik exec busy -- rm /etc/group", "kubectl rollout undo"])
      expect(commands.some((x) => x.startsWith(c))).toBe(true);
  });
});

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "walkthrough", "needs root and crun") ||
  skipUnless(!!testImages, "walkthrough", testImagesMissing) ||
  skipUnless(Bun.which("kubectl") !== null, "walkthrough", "needs kubectl");

/** Reads can be asked again until the cluster catches up; writes run once. */
const RETRIED = /^(minik (inspect|top|get)|kubectl get)\b/;

/**
 * docs/walkthrough.md, executed: every `$` line runs (with `minik` the compiled binary and
 * `kubectl` pointed at this minik) and its output must match the transcript.
 */
describe.skipIf(skip)("docs/walkthrough.md on real containers", () => {
  let d: Daemon;
  let dataDir: string;
  let bin: string;
  const env = () => ({
    ...d.env,
    PATH: `${bin}:${process.env.PATH}`,
    KUBECONFIG: join(dataDir, "kubeconfig"),
  });

  async function run(command: string): Promise<string> {
    const p = Bun.spawn(["bash", "-c", `${command} 2>&1`], { cwd: ROOT, env: env(), stdout: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    if (code !== 0) throw new Error(`\`${command}\` exited with ${code}:\n${out}`);
    return out;
  }

  beforeAll(async () => {
    dataDir = nodeDataDir("walkthrough");
    bin = mkdtempSync(join(tmpdir(), "minik-walkthrough-bin-"));
    symlinkSync(BINARY, join(bin, "minik"));
    d = await startDaemon([], dataDir);
  }, 30_000);

  afterAll(async () => {
    if (d) {
      await d.minik(["delete", "pod", "busy", "--ignore-not-found", "--grace-period", "0"]);
      await d.minik([
        "delete",
        "-f",
        join(ROOT, "examples/nginx-deployment.yaml"),
        "--ignore-not-found",
        "--grace-period",
        "0",
      ]);
      await d.stop();
    }
    removeDir(dataDir);
    if (bin) rmSync(bin, { recursive: true, force: true });
  }, 90_000);

  test("every command's output matches the transcript", async () => {
    for (const step of parseWalkthrough(readFileSync(DOC, "utf8"))) {
      const deadline = Date.now() + (RETRIED.test(step.command) ? 60_000 : 0);
      let out = await run(step.command);
      while (!matchesTranscript(step.expected, out) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
        out = await run(step.command);
      }
      if (!matchesTranscript(step.expected, out))
        throw new Error(
          `$ ${step.command}\n--- expected ---\n${step.expected.join("\n")}\n--- got ---\n${out}`,
        );
    }
  }, 600_000);
});
