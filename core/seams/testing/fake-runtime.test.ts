import { expect, test } from "bun:test";
import { runContainerRuntimeSuite } from "./container-runtime-suite.ts";
import { FakeHost, FakeRuntime, normalizeImage } from "./fake-runtime.ts";

// Commands the fake understands, via its `program` hook: ["fake-exit", code, afterMs], ["fake-echo", text],
// ["fake-start-error", message].
const host = new FakeHost();
host.program = (config) => {
  const [cmd, a, b] = config.command ?? [];
  if (cmd === "fake-exit") return { exitCode: Number(a), afterMs: Number(b) };
  if (cmd === "fake-echo") return { output: `${a}\n`, exitCode: 0 };
  if (cmd === "fake-start-error") return { startError: `failed to start container process: ${a}` };
  return undefined;
};
host.failPull("127.0.0.1:5000/missing:1");

runContainerRuntimeSuite("FakeRuntime", async () => new FakeRuntime({ host }), {
  image: "busybox:1.36",
  missingImage: "127.0.0.1:5000/missing:1",
  commands: {
    sleep: ["sleep", "3600"],
    exit: (code, afterMs) => ["fake-exit", String(code), String(afterMs)],
    echo: (text) => ["fake-echo", text],
    cat: ["cat"],
    missingBinary: ["fake-start-error", "executable file `/no/such/binary` not found"],
  },
});

test("normalizeImage follows docker reference rules", () => {
  expect(normalizeImage("nginx")).toBe("docker.io/library/nginx:latest");
  expect(normalizeImage("bitnami/nginx:1.2")).toBe("docker.io/bitnami/nginx:1.2");
  expect(normalizeImage("127.0.0.1:5000/busybox")).toBe("127.0.0.1:5000/busybox:latest");
  expect(normalizeImage("localhost/x@sha256:ab")).toBe("localhost/x@sha256:ab");
});

test("OOM exits report OOMKilled and emit oom before exited", async () => {
  const rt = new FakeRuntime();
  await rt.start();
  const seen: string[] = [];
  rt.onEvent((e) => seen.push(e.type));
  await rt.pullImage("busybox", "IfNotPresent");
  await rt.runPodSandbox({
    podUid: "u1",
    namespace: "default",
    name: "p",
    hostname: "p",
    dns: { nameservers: [], searches: [], options: [] },
    hostAliases: [],
    hostPorts: [],
  });
  const c = await rt.startContainer({
    podUid: "u1",
    podNamespace: "default",
    podName: "p",
    name: "c",
    attempt: 0,
    image: "busybox",
    env: [],
    resources: { memoryLimitBytes: 1 << 20 },
    mounts: [],
    security: {},
    tty: false,
    stdin: false,
  });
  rt.exit(c.id, 137, { oom: true });
  await Promise.resolve();
  expect(seen).toEqual(["oom", "exited"]);
  const [s] = await rt.listContainers();
  expect(s!.reason).toBe("OOMKilled");
  expect(s!.exitCode).toBe(137);
});
