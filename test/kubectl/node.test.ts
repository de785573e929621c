import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, outputReader, startCluster } from "./harness.ts";

let c: Cluster;

/** logs, exec, port-forward and top against the fake NodeServices (the real node is tested in e2e). */
describe.skipIf(skipUnless(hasKubectl, "kubectl node commands", "needs /usr/bin/kubectl"))(
  "kubectl node commands",
  () => {
    beforeAll(async () => {
      c = await startCluster({ controllers: true });
      const run = await c.kubectl(["run", "web", "--image=busybox", "--", "sleep", "1d"]);
      expect(run.stdout).toBe("pod/web created\n");
      await waitFor(
        async () =>
          (await c.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.phase}"])).stdout === "Running",
        {
          what: "pod web running",
        },
      );
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("logs with --tail and --timestamps, and -f streaming until the stream ends", async () => {
      c.node.logLines.set("default/web/web", ["one", "two", "three"]);
      expect((await c.kubectl(["logs", "web"])).stdout).toBe("one\ntwo\nthree\n");
      expect((await c.kubectl(["logs", "web", "--tail=1", "--timestamps"])).stdout).toBe(
        "2026-11-25T14:00:00.000000000Z three\n",
      );
      const follow = c.spawn(["logs", "-f", "web"]);
      const out = outputReader(follow.stdout as ReadableStream<Uint8Array>);
      await out.until("three\n");
      const follower = await waitFor(() => c.node.followers.at(-1));
      follower.push("four");
      await out.until("four\n");
      expect(out.text()).toBe("one\ntwo\nthree\nfour\n");
      follower.end();
      expect(await follow.exited).toBe(0);
    });

    test("exec streams output and returns the command's exit code", async () => {
      const ok = await c.kubectl(["exec", "web", "--", "echo", "hello", "world"]);
      expect(ok).toEqual({ code: 0, stdout: "hello world\n", stderr: "" });
      const fail = await c.kubectl(["exec", "web", "--", "exit", "3"]);
      expect(fail.code).toBe(3);
      expect(fail.stderr).toContain("command terminated with exit code 3");
      const stdin = await c.kubectl(["exec", "-i", "web", "--", "cat"], { stdin: "abc\ndef\n" });
      expect(stdin.stdout).toBe("abc\ndef\n");
      expect(stdin.code).toBe(0);
      const err = await c.kubectl(["exec", "web", "--", "stderr", "to-stderr"]);
      expect(err.stderr).toBe("to-stderr\n");
      const missing = await c.kubectl(["exec", "nope", "--", "echo"]);
      expect(missing.stderr).toContain('pods "nope" not found');
    });

    test.skipIf(!Bun.which("script"))("exec -it sends the terminal size on the resize channel", async () => {
      // `script` gives kubectl a real terminal (91x33), whose size kubectl sends on channel 4
      const proc = Bun.spawn(
        ["script", "-qec", "stty cols 91 rows 33; kubectl exec -it web -- size", "/dev/null"],
        {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: c.dir, KUBECONFIG: `${c.dir}/kubeconfig` },
          stdin: "pipe",
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      expect(await new Response(proc.stdout).text()).toBe("91x33\n");
      expect(await proc.exited).toBe(0);
    });

    test("attach connects stdin and stdout to the container's main process", async () => {
      // a `cat` started with stdin and stdinOnce (kubectl run -i --attach=false): EOF ends it
      const run = await c.kubectl(["run", "cat", "-i", "--attach=false", "--image=busybox", "--", "cat"]);
      expect(run.stdout).toBe("pod/cat created\n");
      const spec = await c.kubectl(["get", "pod", "cat", "-o", "jsonpath={.spec.containers[0].stdinOnce}"]);
      expect(spec.stdout).toBe("true");
      await waitFor(
        async () =>
          (await c.kubectl(["get", "pod", "cat", "-o", "jsonpath={.status.phase}"])).stdout === "Running",
        { what: "pod cat running" },
      );
      c.node.stdinOnceCats.add("default/cat");
      const res = await c.kubectl(["attach", "-i", "cat"], { stdin: "hello\nworld\n" });
      expect(res.code).toBe(0);
      expect(res.stdout).toBe("hello\nworld\n");
    });

    test("port-forward carries TCP through SPDY over WebSocket", async () => {
      const pf = c.spawn(["port-forward", "pod/web", ":80"]);
      const reader = (pf.stdout as ReadableStream<Uint8Array>).getReader();
      let out = "";
      while (!/127\.0\.0\.1:(\d+) -> 80/.test(out)) {
        const { value, done } = await reader.read();
        if (done)
          throw new Error(
            `port-forward ended: ${out} ${await new Response(pf.stderr as ReadableStream).text()}`,
          );
        out += new TextDecoder().decode(value);
      }
      const port = Number(/127\.0\.0\.1:(\d+) -> 80/.exec(out)![1]);
      for (const message of ["first", "second"]) {
        const reply = await new Promise<string>((resolve, reject) => {
          const sock = connect(port, "127.0.0.1", () => sock.end(message));
          let got = "";
          sock.on("data", (d) => (got += d.toString()));
          sock.on("end", () => resolve(got));
          sock.on("error", reject);
        });
        expect(reply).toBe(`port 80: ${message}`);
      }
      pf.kill();
      await pf.exited;
    });

    test("client libraries' channel port-forward (client-node PortForward, ?ports=)", async () => {
      const k8s = await import("@kubernetes/client-node");
      const { PassThrough } = await import("node:stream");
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(`${c.dir}/kubeconfig`);
      const output = new PassThrough();
      const input = new PassThrough();
      let received = "";
      output.on("data", (d: Buffer) => (received += d.toString()));
      const ws = (await new k8s.PortForward(kc).portForward(
        "default",
        "web",
        [8080],
        output,
        null,
        input,
      )) as { close(): void };
      input.write("ping");
      await waitFor(() => received === "port 8080: ping", { what: `echo, got ${JSON.stringify(received)}` });
      ws.close();
    });

    test("client-node Exec speaks the same channel protocol", async () => {
      const k8s = await import("@kubernetes/client-node");
      const { PassThrough } = await import("node:stream");
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(`${c.dir}/kubeconfig`);
      // client-node ends stdout when the status arrives, so each exec gets its own stream
      const run = async (command: string[]) => {
        const stdout = new PassThrough();
        let out = "";
        stdout.on("data", (d: Buffer) => (out += d.toString()));
        const status = await new Promise<{ status?: string; reason?: string }>((resolve) => {
          void new k8s.Exec(kc).exec("default", "web", "web", command, stdout, null, null, false, resolve);
        });
        return { status, out };
      };
      expect((await run(["exit", "4"])).status).toMatchObject({
        status: "Failure",
        reason: "NonZeroExitCode",
      });
      expect(await run(["echo", "from", "library"])).toEqual({
        status: { metadata: {}, status: "Success" } as never,
        out: "from library\n",
      });
    });

    test("get --raw through the pod proxy subresource", async () => {
      const res = await c.kubectl([
        "get",
        "--raw",
        "/api/v1/namespaces/default/pods/web:8080/proxy/status?full=1",
      ]);
      expect(res.code).toBe(0);
      expect(res.stdout).toStartWith("GET /status?full=1 HTTP/1.1\r\n");
    });

    test("top pods and top node read metrics.k8s.io", async () => {
      const pods = await c.kubectl(["top", "pods", "--no-headers"]);
      expect(pods.stderr).toBe("");
      expect(pods.stdout).toMatch(/^web\s+\d+m\s+4Mi\s*$/m);
      const node = await c.kubectl(["top", "node", "--no-headers"]);
      expect(node.stdout).toMatch(/^minik\s+\d+m\s+\d+%\s+512Mi\s+\d+%\s*$/m);
    });
  },
);
