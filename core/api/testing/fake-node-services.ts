import { ApiError } from "../../errors.ts";
import type { ExecOptions, ExecSession } from "../../seams/container-runtime.ts";
import type { ContainerInspection } from "../../seams/inspection.ts";
import type { DuplexStream, NodeServices, PodStats } from "../../seams/node-services.ts";

/**
 * NodeServices without a node, for API tests: logs from memory, a tiny command interpreter for
 * exec (`echo`, `cat`, `exit N`, `stderr TEXT`, `size`), attach (see stdinOnceCats), and port-forward to an
 * in-memory echo server that answers `port <P>: <bytes>`.
 */
export class FakeNodeServices implements NodeServices {
  /** `namespace/pod/container` → log lines (without newlines). */
  readonly logLines = new Map<string, string[]>();
  /** Follow streams still open, to push more lines or end them. */
  readonly followers: { key: string; push(line: string): void; end(): void }[] = [];
  readonly resizes: { cols: number; rows: number }[] = [];
  cpu = 0;

  async logs(
    namespace: string,
    pod: string,
    container: string | undefined,
    options: {
      follow?: boolean;
      tailLines?: number;
      timestamps?: boolean;
      limitBytes?: number;
      previous?: boolean;
    },
  ) {
    const key = `${namespace}/${pod}/${container}`;
    const lines = this.logLines.get(key);
    if (!lines)
      throw new ApiError("BadRequest", `container "${container}" in pod "${pod}" is waiting to start`);
    const shown =
      options.tailLines !== undefined ? lines.slice(Math.max(0, lines.length - options.tailLines)) : lines;
    const format = (l: string) => `${options.timestamps ? "2026-11-25T14:00:00.000000000Z " : ""}${l}\n`;
    const encoder = new TextEncoder();
    let text = shown.map(format).join("");
    if (options.limitBytes !== undefined) text = text.slice(0, options.limitBytes);
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (text) controller.enqueue(encoder.encode(text));
        if (!options.follow) return controller.close();
        this.followers.push({
          key,
          push: (line) => controller.enqueue(encoder.encode(format(line))),
          end: () => controller.close(),
        });
      },
    });
  }

  async exec(
    _namespace: string,
    pod: string,
    _container: string | undefined,
    command: string[],
    options: ExecOptions,
  ): Promise<ExecSession> {
    if (pod === "stopped") throw new ApiError("BadRequest", `container in pod "${pod}" is not running`);
    const encoder = new TextEncoder();
    let out!: ReadableStreamDefaultController<Uint8Array>;
    let err!: ReadableStreamDefaultController<Uint8Array>;
    const stdout = new ReadableStream<Uint8Array>({
      start: (c) => {
        out = c;
      },
    });
    const stderr = new ReadableStream<Uint8Array>({
      start: (c) => {
        err = c;
      },
    });
    let finish!: (code: number) => void;
    const exited = new Promise<number>((r) => {
      finish = r;
    });
    const end = (code: number) => {
      out.close();
      if (!options.tty) err.close();
      finish(code);
    };
    const [cmd, ...args] = command;
    let stdin: WritableStream<Uint8Array> | undefined;
    if (cmd === "cat" && options.stdin) {
      stdin = new WritableStream({ write: (chunk) => out.enqueue(chunk), close: () => end(0) });
    } else if (cmd === "echo") {
      out.enqueue(encoder.encode(`${args.join(" ")}\n`));
      queueMicrotask(() => end(0));
    } else if (cmd === "stderr") {
      (options.tty ? out : err).enqueue(encoder.encode(`${args.join(" ")}\n`));
      queueMicrotask(() => end(0));
    } else if (cmd === "exit") {
      queueMicrotask(() => end(Number(args[0] ?? 0)));
    } else if (cmd === "size") {
      // prints the first terminal size it is given, then exits
      setTimeout(() => {
        const s = this.resizes.at(-1);
        out.enqueue(encoder.encode(s ? `${s.cols}x${s.rows}\n` : "no size\n"));
        end(0);
      }, 50);
    } else {
      err.enqueue(encoder.encode(`${cmd}: not found\n`));
      queueMicrotask(() => end(127));
    }
    if (options.stdin && !stdin) stdin = new WritableStream();
    return {
      stdin,
      stdout,
      stderr: options.tty ? undefined : stderr,
      resize: (cols, rows) => void this.resizes.push({ cols, rows }),
      exited,
      kill: () => {},
    };
  }

  /**
   * Pods (`namespace/name`) whose main process is a `cat` started with `stdin` and `stdinOnce`:
   * attach echoes stdin and the client's EOF ends it, as on a real node. Any other pod's main
   * process has no stdin and prints nothing: its session lasts until the client leaves.
   */
  readonly stdinOnceCats = new Set<string>();

  async attach(
    namespace: string,
    pod: string,
    container: string | undefined,
    options: ExecOptions,
  ): Promise<ExecSession> {
    if (this.stdinOnceCats.has(`${namespace}/${pod}`))
      return this.exec(namespace, pod, container, ["cat"], { ...options, stdin: true });
    let leave!: () => void;
    const left = new Promise<number>((resolve) => (leave = () => resolve(0)));
    return {
      stdout: new ReadableStream<Uint8Array>({ start: (c) => void left.then(() => c.close()) }),
      stderr: options.tty
        ? undefined
        : new ReadableStream<Uint8Array>({ start: (c) => void left.then(() => c.close()) }),
      resize: () => {},
      exited: left,
      kill: leave,
    };
  }

  async portForward(_namespace: string, _pod: string, port: number): Promise<DuplexStream> {
    if (port === 81) throw new Error("connection refused");
    const encoder = new TextEncoder();
    let reply!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        reply = c;
      },
    });
    let request = "";
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        const text = new TextDecoder().decode(chunk);
        request += text;
        if (!/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(request)) {
          reply.enqueue(encoder.encode(`port ${port}: ${text}`));
          return;
        }
        const end = request.indexOf("\r\n\r\n");
        if (end < 0) return;
        // an HTTP server: answers with the request line and headers it got, chunked
        const body = `${request.slice(0, end)}\r\n\r\n${request.slice(end + 4)}`;
        const half = Math.floor(body.length / 2);
        const chunked = (t: string) => `${encoder.encode(t).byteLength.toString(16)}\r\n${t}\r\n`;
        reply.enqueue(
          encoder.encode(
            `HTTP/1.1 203 Echo\r\nContent-Type: text/plain\r\nX-Port: ${port}\r\nTransfer-Encoding: chunked\r\n\r\n`,
          ),
        );
        reply.enqueue(encoder.encode(chunked(body.slice(0, half))));
        reply.enqueue(encoder.encode(`${chunked(body.slice(half))}0\r\n\r\n`));
        reply.close();
      },
      close: () => {
        try {
          reply.close();
        } catch {}
      },
    });
    return { readable, writable, close: () => {} };
  }

  async podStats(namespace?: string): Promise<PodStats[]> {
    this.cpu += 50_000_000; // 50 ms of CPU per sample
    const timestamp = new Date().toISOString();
    const pods: PodStats[] = [
      {
        namespace: "default",
        name: "web",
        containers: [
          {
            name: "app",
            timestamp,
            cpuUsageNanoSeconds: this.cpu,
            memoryUsageBytes: 8 << 20,
            memoryWorkingSetBytes: 4 << 20,
          },
        ],
      },
    ];
    return pods.filter((p) => !namespace || p.namespace === namespace);
  }

  async nodeStats() {
    this.cpu += 50_000_000;
    return {
      cpuUsageNanoSeconds: this.cpu,
      memoryWorkingSetBytes: 512 << 20,
      timestamp: new Date().toISOString(),
    };
  }

  async inspect(namespace: string, pod: string, container: string | undefined): Promise<ContainerInspection> {
    if (namespace !== "default" || pod !== "web") throw ApiError.notFound("pods", pod);
    return {
      id: "app-0",
      name: container ?? "app",
      state: "running",
      image: "busybox",
      pid: { host: 4242, inContainer: 1 },
      namespaces: [{ type: "net", inode: 4026532281, sharedWith: "pod" }],
      cgroup: {
        mode: "v2",
        path: "/minik/web/app-0",
        cpu: { quotaMicros: 30000, periodMicros: 100000, percentOfOneCpu: 30 },
        files: {},
      },
      rootfs: {
        layers: [{ role: "container", dir: "/upper" }],
        changes: { added: [], modified: [], deleted: ["/etc/motd"] },
      },
      notes: [],
    };
  }
}
