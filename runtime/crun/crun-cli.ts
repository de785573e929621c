import { readFileSync, statSync } from "node:fs";
import { tracked } from "../supervise/exit-watcher.ts";

/**
 * crun as typed verbs (go-runc style): every failure carries the command line and crun's message.
 * All calls go through the namespace prefix (see crun-namespace.ts) and the cgroupfs manager.
 */
export interface CrunState {
  id: string;
  pid: number;
  status: "created" | "running" | "stopped" | string;
  bundle: string;
  created: string;
}

export class CrunError extends Error {
  constructor(
    readonly argv: string[],
    readonly stderr: string,
  ) {
    super(`${argv.join(" ")}: ${stderr.trim() || "failed"}`);
    this.name = "CrunError";
  }
}

export interface CrunCli {
  readonly root: string;
  /**
   * `crun run -d`: returns the init's pid once it runs (from --pid-file: `crun state` says pid 0
   * for a container that already exited). stdout/stderr go to `logFd`, stdin comes from
   * `stdinFd` (else /dev/null).
   */
  run(id: string, bundle: string, logFd: number, stdinFd?: number): Promise<number>;
  state(id: string): Promise<CrunState | undefined>;
  kill(id: string, signal: string): Promise<void>;
  delete(id: string): Promise<void>;
  /** argv for `crun exec` (spawned by the caller, which wires the stdio or a tty). */
  execArgv(id: string, command: string[], tty: boolean): Promise<string[]>;
}

export function createCrunCli(opts: {
  crunPath: string;
  root: string;
  prefix: () => Promise<string[]>;
}): CrunCli {
  const crunArgs = [opts.crunPath, "--root", opts.root, "--cgroup-manager=cgroupfs"];
  const argv = async (args: string[]) => [...(await opts.prefix()), ...crunArgs, ...args];

  const call = async (args: string[]) => capture(await argv(args));
  const notExist = (s: string) => /does not exist|No such file or directory/.test(s);

  return {
    root: opts.root,
    async run(id, bundle, logFd, stdinFd) {
      const crunLog = `${bundle}/crun.log`;
      const pidFile = `${bundle}/init.pid`;
      const cmd = await argv([
        `--log=file:${crunLog}`,
        "run",
        "-d",
        "--pid-file",
        pidFile,
        "--bundle",
        bundle,
        id,
      ]);
      const proc = tracked(
        Bun.spawn(cmd, { stdin: stdinFd ?? "ignore", stdout: logFd, stderr: logFd, detached: true }),
      );
      if ((await proc.exited) !== 0) {
        let msg = "";
        try {
          msg = readFileSync(crunLog, "utf8");
        } catch {}
        throw new CrunError(cmd, msg);
      }
      return Number(readFileSync(pidFile, "utf8"));
    },
    async state(id) {
      const r = await call(["state", id]);
      if (r.ok) return JSON.parse(r.stdout) as CrunState;
      if (notExist(r.stderr)) return undefined;
      throw new CrunError([...crunArgs, "state", id], r.stderr);
    },
    async kill(id, signal) {
      const r = await call(["kill", id, signal]);
      // "not running" and "does not exist" are what we wanted anyway.
      if (!r.ok && !notExist(r.stderr) && !/not running|No such process/i.test(r.stderr)) {
        throw new CrunError([...crunArgs, "kill", id, signal], r.stderr);
      }
    },
    async delete(id) {
      const r = await call(["delete", "-f", id]);
      if (!r.ok && !notExist(r.stderr)) throw new CrunError([...crunArgs, "delete", "-f", id], r.stderr);
    },
    execArgv(id, command, tty) {
      return argv(["exec", ...(tty ? ["-t"] : []), id, ...command]);
    },
  };
}

/** crun's own version ("crun version 1.8.1" → "1.8.1"); it needs no root and no cgroups. */
export async function crunVersion(crunPath: string): Promise<string> {
  const argv = [crunPath, "--version"];
  const { ok, stdout, stderr } = await capture(argv);
  const version = /^crun version (\S+)/m.exec(stdout)?.[1];
  if (!ok || !version) throw new CrunError(argv, stderr || stdout);
  return version;
}

/**
 * The node health check's crun probe: crun is run (`--version`) again only when its binary on disk
 * changed — replaced by an upgrade, removed — since it last answered; otherwise a stat of it is
 * enough. Running crun on every check cost an idle node a process every 10 s (issue 17).
 */
export function createCrunProbe(crunPath: string): () => Promise<void> {
  let verified: string | undefined;
  return async () => {
    const path = crunPath.includes("/") ? crunPath : Bun.which(crunPath);
    if (!path) throw new CrunError([crunPath, "--version"], `${crunPath} is not on PATH`);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) throw new CrunError([path, "--version"], `${path} is gone`);
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
    if (identity === verified) return;
    verified = undefined;
    await crunVersion(path);
    verified = identity;
  };
}

async function capture(argv: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const proc = tracked(Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" }));
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { ok: code === 0, stdout, stderr };
}
