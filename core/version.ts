/** What `/version` reports. kubectl's dispatcher picks its binary by `minor`, so keep 1.32. */
export const VERSION = {
  minik: "0.1.0",
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-minik",
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: "2026-11-25T00:00:00Z",
  goVersion: "bun",
  compiler: "bun",
  platform: `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`,
} as const;
