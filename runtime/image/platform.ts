/**
 * Which entry of an image index / manifest list this host runs: os linux, the host architecture
 * (Go names), arm64 variant v8. Attestation entries (`unknown/unknown`) never match.
 */
import type { Descriptor } from "./registry-client.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const GO_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

export function hostPlatform(): Platform {
  const architecture = GO_ARCH[process.arch] ?? process.arch;
  return {
    os: "linux",
    architecture,
    ...(architecture === "arm64" ? { variant: "v8" } : architecture === "arm" ? { variant: "v7" } : {}),
  };
}

/** Best match for `want`: exact variant first, then an entry without a variant, then any variant. */
export function choosePlatform(
  entries: Descriptor[],
  want: Platform = hostPlatform(),
): Descriptor | undefined {
  const candidates = entries.filter(
    (e) =>
      e.platform?.os === want.os &&
      e.platform?.architecture === want.architecture &&
      e.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest",
  );
  return (
    candidates.find((e) => e.platform?.variant === want.variant) ??
    candidates.find((e) => !e.platform?.variant) ??
    candidates[0]
  );
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}
