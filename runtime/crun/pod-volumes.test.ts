import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import type { Mount } from "../../core/seams/container-runtime.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { materializeVolume, updateVolumeFiles } from "./pod-volumes.ts";

/** Volume directories on the host (the memory-backed emptyDir is covered by the crun tests). */
describe("pod volumes", () => {
  const root = mkdtempSync("/tmp/minik-vol-");
  const dirs = { disk: `${root}/disk`, mem: `${root}/mem` };
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const mount = (volume: string, source: Mount["source"], subPath?: string): Mount => ({
    volume,
    source,
    containerPath: "/x",
    readOnly: false,
    ...(subPath ? { subPath } : {}),
  });

  test("emptyDir on disk is one world-writable directory per volume; subPath below it", () => {
    const dir = materializeVolume(dirs, mount("cache", { type: "emptyDir" }));
    expect(dir).toBe(`${root}/disk/cache`);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    expect(materializeVolume(dirs, mount("cache", { type: "emptyDir" }, "a/b"))).toBe(
      `${root}/disk/cache/a/b`,
    );
  });

  test("a subPath never leads out of its volume", () => {
    const dir = materializeVolume(dirs, mount("shared", { type: "emptyDir" }));
    symlinkSync("/etc", `${dir}/escape`);
    expect(() => materializeVolume(dirs, mount("shared", { type: "emptyDir" }, "escape"))).toThrow(
      /leads out of the volume/,
    );
    expect(() => materializeVolume(dirs, mount("shared", { type: "emptyDir" }, "../disk"))).toThrow(
      /without '\.\.'/,
    );
    symlinkSync("inner", `${dir}/alias`);
    mkdirSync(`${dir}/inner`);
    expect(materializeVolume(dirs, mount("shared", { type: "emptyDir" }, "alias"))).toBe(`${dir}/inner`);
  });

  test("files volumes are written with their mode, nested paths included", () => {
    const dir = materializeVolume(
      dirs,
      mount("cfg", { type: "files", files: { "app.conf": "x=1\n", "sub/k": "v" }, mode: 0o600 }),
    );
    expect(readFileSync(`${dir}/app.conf`, "utf8")).toBe("x=1\n");
    expect(readFileSync(`${dir}/sub/k`, "utf8")).toBe("v");
    expect(statSync(`${dir}/app.conf`).mode & 0o777).toBe(0o600);
  });

  test("hostPath type checks: OrCreate creates, the others must already match", () => {
    const d = `${root}/host/dir`;
    expect(
      materializeVolume(dirs, mount("h1", { type: "hostPath", path: d, hostPathType: "DirectoryOrCreate" })),
    ).toBe(d);
    expect(statSync(d).isDirectory()).toBe(true);
    const f = `${root}/host/new/file`;
    materializeVolume(dirs, mount("h2", { type: "hostPath", path: f, hostPathType: "FileOrCreate" }));
    expect(statSync(f).isFile()).toBe(true);
    expect(
      materializeVolume(dirs, mount("h3", { type: "hostPath", path: d, hostPathType: "Directory" })),
    ).toBe(d);
    const err = (() => {
      try {
        materializeVolume(dirs, mount("h4", { type: "hostPath", path: f, hostPathType: "Directory" }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).reason).toBe("ContainerCreating");
    expect((err as RuntimeError).message).toBe(
      `MountVolume.SetUp failed for volume "h4" : hostPath type check failed: ${f} is not a directory`,
    );
    expect(() =>
      materializeVolume(dirs, mount("h5", { type: "hostPath", path: `${root}/nope`, hostPathType: "File" })),
    ).toThrow(/is not a file/);
    mkdirSync(`${root}/plain`, { recursive: true });
    writeFileSync(`${root}/plain/f`, "");
    expect(materializeVolume(dirs, mount("h6", { type: "hostPath", path: `${root}/plain/f` }))).toBe(
      `${root}/plain/f`,
    );
  });

  test("updateVolumeFiles renews files of a materialised volume in place, keeping their mode", () => {
    const dir = materializeVolume(
      dirs,
      mount("token", { type: "files", files: { token: "old", "ca.crt": "ca" }, mode: 0o600 }),
    );
    updateVolumeFiles(dirs, "token", { token: "new", "../escape": "x" });
    expect(readFileSync(`${dir}/token`, "utf8")).toBe("new");
    expect(statSync(`${dir}/token`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${dir}/ca.crt`, "utf8")).toBe("ca");
    expect(() => statSync(`${dir}/../escape`)).toThrow();
    updateVolumeFiles(dirs, "never-materialised", { token: "x" });
    expect(() => statSync(`${dirs.disk}/never-materialised`)).toThrow();
  });
});
