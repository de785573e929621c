import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import type { ImageRef } from "../../../core/seams/container-runtime.ts";
import { RuntimeError } from "../../../core/seams/container-runtime.ts";
import type { ResolvedImage } from "../../image/image-store.ts";
import type { ImageSource } from "../crun-runtime.ts";

/**
 * A one-layer image made on the spot from the host's static busybox, for runtime tests that must
 * not depend on a registry. Real images come from the image store (runtime/image).
 */
const APPLETS = [
  "sh",
  "sleep",
  "cat",
  "echo",
  "true",
  "false",
  "ls",
  "head",
  "tr",
  "wget",
  "hostname",
  "id",
  "yes",
  "stty",
  "tty",
  "env",
  "dd",
  "mkdir",
  "test",
  "kill",
  "trap",
];

export function busyboxImageSource(dir: string, name = "minik-test/busybox:local"): ImageSource {
  const layer = `${dir}/busybox-layer`;
  if (!existsSync(`${layer}/bin/busybox`)) {
    mkdirSync(`${layer}/bin`, { recursive: true });
    mkdirSync(`${layer}/etc`, { recursive: true });
    mkdirSync(`${layer}/tmp`, { recursive: true });
    copyFileSync("/usr/bin/busybox", `${layer}/bin/busybox`);
    for (const a of APPLETS) symlinkSync("busybox", `${layer}/bin/${a}`);
    writeFileSync(
      `${layer}/etc/passwd`,
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    );
    writeFileSync(`${layer}/etc/group`, "root:x:0:\nnogroup:x:65534:\n");
  }
  const ref: ImageRef = { name, id: `sha256:${createHash("sha256").update(name).digest("hex")}`, size: 1 };
  const resolved: ResolvedImage = {
    ref,
    config: { Env: ["PATH=/bin"], Cmd: ["sh"], WorkingDir: "/" },
    layerDirs: [layer],
    diffIds: [`sha256:${createHash("sha256").update(layer).digest("hex")}`],
    meta: { history: [{ created_by: "busybox-static copied by the test fixture" }] },
  };
  return {
    async pull(image, options) {
      if (image === name) return ref;
      const never = options?.policy === "Never";
      throw new RuntimeError(never ? "ErrImageNeverPull" : "ErrImagePull", `image ${image} not found`);
    },
    resolve: (image) => (image === name || image === ref.id ? resolved : undefined),
  };
}
