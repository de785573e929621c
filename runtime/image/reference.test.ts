import { describe, expect, test } from "bun:test";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { familiarName, parseImageReference } from "./reference.ts";

const D = `sha256:${"a".repeat(64)}`;

describe("parseImageReference", () => {
  test.each([
    ["nginx", "docker.io/library/nginx:latest"],
    ["nginx:1.7.9", "docker.io/library/nginx:1.7.9"],
    ["library/nginx:1.7.9", "docker.io/library/nginx:1.7.9"],
    ["docker.io/nginx", "docker.io/library/nginx:latest"],
    ["index.docker.io/library/nginx:1", "docker.io/library/nginx:1"],
    ["minik-test/busybox:1", "docker.io/minik-test/busybox:1"],
    ["127.0.0.1:5100/minik-test/busybox:1", "127.0.0.1:5100/minik-test/busybox:1"],
    ["localhost/foo", "localhost/foo:latest"],
    ["localhost:5000/a/b/c:v1.2-rc_3", "localhost:5000/a/b/c:v1.2-rc_3"],
    ["ghcr.io/org/app", "ghcr.io/org/app:latest"],
    [`nginx@${D}`, `docker.io/library/nginx@${D}`],
    [`nginx:1@${D}`, `docker.io/library/nginx:1@${D}`],
  ])("%s → %s", (input, name) => {
    expect(parseImageReference(input).name).toBe(name);
  });

  test("asks the registry for the digest when there is one, else the tag", () => {
    expect(parseImageReference(`nginx:1@${D}`).reference).toBe(D);
    expect(parseImageReference("nginx").reference).toBe("latest");
    const p = parseImageReference("127.0.0.1:5100/minik-test/busybox:1");
    expect([p.domain, p.path, p.tag]).toEqual(["127.0.0.1:5100", "minik-test/busybox", "1"]);
  });

  test.each([
    "",
    "Nginx",
    "nginx:",
    "nginx:bad tag",
    "nginx@sha256:123",
    "a//b",
    "-a",
    "nginx:-x",
    "a/B:1",
    "docker.io/Nginx",
  ])("rejects %p as InvalidImageName", (input) => {
    let err: unknown;
    try {
      parseImageReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).reason).toBe("InvalidImageName");
  });

  test("familiarName shortens Docker Hub names only", () => {
    expect(familiarName("docker.io/library/nginx:1.7.9")).toBe("nginx:1.7.9");
    expect(familiarName("docker.io/minik-test/x:1")).toBe("minik-test/x:1");
    expect(familiarName("127.0.0.1:5100/library/x:1")).toBe("127.0.0.1:5100/library/x:1");
  });
});
