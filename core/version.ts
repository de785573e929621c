/** The JavaScript runtime minik runs on: Bun (the compiled binary) or Deno (from source). */
const runtime = process.versions.deno
  ? `deno ${process.versions.deno}`
  : process.versions.bun
    ? `bun ${process.versions.bun}`
    : `node ${process.versions.node}`;

/**
 * What `/version` reports. kubectl's dispatcher picks its binary by `minor`, so keep 1.32.
 * Commit, tree state and build date are stamped by scripts/build.ts (build-info.ts); a binary not
 * built that way (`bun cmd/main.ts`) reports them empty and the epoch, as an unstamped kube build.
 */
export const VERSION = {
  minik: "0.1.0",
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-minik",
  gitCommit: process.env.MINIK_GIT_COMMIT ?? "",
  gitTreeState: process.env.MINIK_GIT_TREE_STATE ?? "",
  buildDate: process.env.MINIK_BUILD_TIME ?? "1970-01-01T00:00:00Z",
  /** Where kube-apiserver names its Go toolchain: the runtime and its version, e.g. "bun 1.4.5". */
  goVersion: runtime,
  compiler: runtime.split(" ")[0]!,
  platform: `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`,
} as const;
