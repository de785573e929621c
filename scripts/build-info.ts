/**
 * What the build stamps into the binary for `/version`: the time of the build and the git commit
 * it was built from (with "dirty" when the work tree had changes), as `process.env.*` defines
 * that core/version.ts reads. Outside a git checkout the commit is left empty.
 */
export interface BuildInfo {
  buildDate: string;
  gitCommit: string;
  gitTreeState: "clean" | "dirty" | "";
}

export function buildInfo(cwd: string, now = new Date()): BuildInfo {
  const git = (args: string[]) => {
    const r = Bun.spawnSync(["git", "-C", cwd, ...args], { stdout: "pipe", stderr: "ignore" });
    return r.exitCode === 0 ? r.stdout.toString().trim() : undefined;
  };
  const commit = git(["rev-parse", "HEAD"]);
  const status = commit === undefined ? undefined : git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    // Kubernetes' format: seconds, no fraction
    buildDate: now.toISOString().replace(/\.\d+Z$/, "Z"),
    gitCommit: commit ?? "",
    gitTreeState: status === undefined ? "" : status ? "dirty" : "clean",
  };
}

export function buildDefines(info: BuildInfo): Record<string, string> {
  return {
    "process.env.MINIK_BUILD_TIME": JSON.stringify(info.buildDate),
    "process.env.MINIK_GIT_COMMIT": JSON.stringify(info.gitCommit),
    "process.env.MINIK_GIT_TREE_STATE": JSON.stringify(info.gitTreeState),
  };
}
