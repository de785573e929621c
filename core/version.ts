/** The JavaScript runtime minik runs on: Bun (the compiled binary) or Deno (from source). */
const runtime = process.versions.deno
  ? `deno ${process.versions.deno}`
  : process.versions.bun
    ? `bun ${process.versions.bun}`
    : `node ${process.versions.node}`;

/** What `/version` reports. kubectl's dispatcher picks its binary by `minor`, so keep 1.32. */
export const VERSION = {
  minik: "0.1.0",
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-minik",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "2026-11-25T00:00:00Z",
  /** Where kube-apiserver names its Go toolchain: the runtime and its version, e.g. "bun 1.4.5". */
  goVersion: runtime,
  compiler: runtime.split(" ")[0]!,
  platform: `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`,
} as const;
