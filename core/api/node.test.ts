import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { constants, deflateSync } from "node:zlib";
import { waitFor } from "../../test/support/env.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { CHANNEL, runExec } from "./exec.ts";
import { runChannelPortForward, runPortForward } from "./port-forward.ts";
import type { ServerEnv, Socket, SocketHandler } from "./socket.ts";
import { SPDY_DICTIONARY } from "./spdy/dictionary.ts";
import {
  concat,
  controlFrame,
  dataFrame,
  FLAG_FIN,
  FRAME,
  FrameReader,
  HeaderEncoder,
} from "./spdy/frames.ts";
import { FakeNodeServices } from "./testing/fake-node-services.ts";

let store: Store;
let client: Registry;
let node: FakeNodeServices;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const registry = createRegistry(store);
  await registry.bootstrap();
  client = registry;
  node = new FakeNodeServices();
  app = createApiServer({ client, node, auth: { token: "t" } });
  await client.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "default" },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  });
  const pod = await client.get("pods", "default", "web");
  await client.updateStatus("pods", {
    ...pod,
    status: {
      phase: "Running",
      containerStatuses: [{ name: "app", ready: true, restartCount: 0, state: { running: {} } }],
    },
  });
});
afterEach(async () => {
  await store.close();
});

const get = (path: string, init: RequestInit = {}, env: ServerEnv = {}) =>
  app.request(
    path,
    { ...init, headers: { Authorization: "Bearer t", ...(init.headers as Record<string, string>) } },
    env,
  );

/** An in-memory Socket: what the server sends is recorded, the test plays the client. */
function pairSocket() {
  const sent: Uint8Array[] = [];
  const listeners: ((d: Uint8Array) => void)[] = [];
  const closers: (() => void)[] = [];
  let closeCode: number | undefined;
  const socket: Socket = {
    send: (d) => void sent.push(d.slice()),
    close: (code = 1000) => {
      closeCode = code;
      for (const c of closers) c();
    },
    onMessage: (l) => void listeners.push(l),
    onClose: (l) => void closers.push(l),
  };
  return {
    socket,
    sent,
    fromClient: (d: Uint8Array) => {
      for (const l of listeners) l(d);
    },
    closed: () => closeCode,
  };
}

describe("logs", () => {
  test("tailLines, timestamps, and the container defaulted from the pod", async () => {
    node.logLines.set("default/web/app", ["one", "two", "three"]);
    const res = await get("/api/v1/namespaces/default/pods/web/log?tailLines=2&timestamps=true");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/plain");
    expect(await res.text()).toBe(
      "2026-11-25T14:00:00.000000000Z two\n2026-11-25T14:00:00.000000000Z three\n",
    );
  });

  test("follow streams each chunk as it comes", async () => {
    node.logLines.set("default/web/app", ["first"]);
    const res = await get("/api/v1/namespaces/default/pods/web/log?container=app&follow=true");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe("first\n");
    const follower = await waitFor(() => node.followers[0]);
    follower.push("second");
    expect(decoder.decode((await reader.read()).value)).toBe("second\n");
    follower.end();
    expect((await reader.read()).done).toBe(true);
  });

  test("an unknown container is 400, an unknown pod 404", async () => {
    expect((await get("/api/v1/namespaces/default/pods/web/log?container=nope")).status).toBe(400);
    expect((await get("/api/v1/namespaces/default/pods/none/log")).status).toBe(404);
  });
});

describe("exec", () => {
  test("without a WebSocket upgrade the answer is a Status, not a hang", async () => {
    const res = await get("/api/v1/namespaces/default/pods/web/exec?command=echo&command=hi&stdout=true");
    expect(res.status).toBe(400);
    expect((await res.json()).kind).toBe("Status");
    expect((await get("/api/v1/namespaces/default/pods/none/exec?command=echo")).status).toBe(404);
  });

  test("the upgrade echoes v5.channel.k8s.io and streams stdout, then the channel-3 Status and close 1000", async () => {
    let handler: SocketHandler | undefined;
    let protocol = "";
    const env: ServerEnv = {
      upgrade: (_req, p, h) => {
        protocol = p;
        handler = h;
        return new Response(null, { status: 101 });
      },
    };
    const res = await get(
      "/api/v1/namespaces/default/pods/web/exec?command=echo&command=hi&container=app&stdout=true&stderr=true",
      {
        headers: {
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
        },
      },
      env,
    );
    expect(res.status).toBe(101);
    expect(protocol).toBe("v5.channel.k8s.io");
    const s = pairSocket();
    handler!(s.socket);
    await waitFor(() => s.closed());
    expect(s.closed()).toBe(1000);
    expect(s.sent[0]![0]).toBe(CHANNEL.stdout);
    expect(new TextDecoder().decode(s.sent[0]!.subarray(1))).toBe("hi\n");
    const status = JSON.parse(new TextDecoder().decode(s.sent.at(-1)!.subarray(1)));
    expect(s.sent.at(-1)![0]).toBe(CHANNEL.error);
    expect(status).toEqual({ metadata: {}, status: "Success" });
  });

  test("a container that is not running is a 400 naming why, before any upgrade", async () => {
    await client.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pending", namespace: "default" },
      spec: { containers: [{ name: "app", image: "busybox" }] },
    });
    const res = await get("/api/v1/namespaces/default/pods/pending/exec?command=echo", {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "v5.channel.k8s.io" },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe(
      "container app in pod pending is not running (Pending): wait for it, or see kubectl describe pod pending",
    );
  });

  test("attach needs a node that can attach; without it the answer is a 400 Status", async () => {
    const bare = new FakeNodeServices();
    Object.defineProperty(bare, "attach", { value: undefined });
    const noAttach = createApiServer({ client, node: bare, auth: { token: "t" } });
    const res = await noAttach.request("/api/v1/namespaces/default/pods/web/attach?stdin=true&stdout=true", {
      headers: {
        Authorization: "Bearer t",
        Upgrade: "websocket",
        "Sec-WebSocket-Protocol": "v5.channel.k8s.io",
      },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toContain("attach to pod web is not supported");
  });

  test("stdin, v5 close of stdin, non-zero exit codes, stderr and resize", async () => {
    const enc = new TextEncoder();
    const cat = pairSocket();
    const done = runExec(
      cat.socket,
      await node.exec("default", "web", "app", ["cat"], { tty: false, stdin: true }),
      { v5: true, stderr: true },
    );
    cat.fromClient(concat([new Uint8Array([CHANNEL.stdin]), enc.encode("abc\n")]));
    cat.fromClient(new Uint8Array([CHANNEL.close, CHANNEL.stdin]));
    await done;
    expect(new TextDecoder().decode(cat.sent[0]!.subarray(1))).toBe("abc\n");

    const fail = pairSocket();
    await runExec(
      fail.socket,
      await node.exec("default", "web", "app", ["exit", "3"], { tty: false, stdin: false }),
      { v5: true, stderr: true },
    );
    const status = JSON.parse(new TextDecoder().decode(fail.sent.at(-1)!.subarray(1)));
    expect(status).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });

    const err = pairSocket();
    await runExec(
      err.socket,
      await node.exec("default", "web", "app", ["stderr", "oops"], { tty: false, stdin: false }),
      { v5: true, stderr: true },
    );
    expect(err.sent[0]![0]).toBe(CHANNEL.stderr);

    const tty = pairSocket();
    const sized = runExec(
      tty.socket,
      await node.exec("default", "web", "app", ["size"], { tty: true, stdin: true }),
      { v5: true, stderr: false },
    );
    tty.fromClient(concat([new Uint8Array([CHANNEL.resize]), enc.encode('{"Width":120,"Height":40}\n')]));
    await sized;
    expect(new TextDecoder().decode(tty.sent[0]!.subarray(1))).toBe("120x40\n");
  });
});

describe("port-forward", () => {
  /** Plays kubectl: SYN_STREAM error+data for one request id, then data with FIN. */
  function synStream(id: number, headerBlock: Uint8Array): Uint8Array {
    const head = new Uint8Array(10);
    new DataView(head.buffer).setUint32(0, id);
    return controlFrame(FRAME.synStream, 0, concat([head, headerBlock]));
  }

  test("SPDY streams split at arbitrary bytes reach the pod port and come back with FIN on both streams", async () => {
    const s = pairSocket();
    runPortForward(s.socket, (port) => node.portForward("default", "web", port), "default/web");
    // the first header block really compressed (zlib with the SPDY dictionary, sync flush) …
    const plain = headerBlock({ streamtype: "error", port: "80", requestid: "0" });
    const first = deflateSync(plain, { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    // … and the next one continuing the same zlib stream as a stored block
    const continued = storedBlock(headerBlock({ streamtype: "data", port: "80", requestid: "0" }));
    const bytes = concat([
      synStream(1, first),
      synStream(3, continued),
      dataFrame(1, FLAG_FIN, new Uint8Array()),
      dataFrame(3, 0, new TextEncoder().encode("GET /")),
      dataFrame(3, FLAG_FIN, new Uint8Array()),
      controlFrame(FRAME.ping, 0, new Uint8Array([0, 0, 0, 1])),
    ]);
    for (let at = 0; at < bytes.byteLength; at += 3) s.fromClient(bytes.subarray(at, at + 3));
    const reader = new FrameReader();
    const seen: ReturnType<FrameReader["push"]> = [];
    const frames = await waitFor(() => {
      const all = reader.push(concat(s.sent.splice(0)));
      seen.push(...all);
      return seen.filter((f) => !f.control && f.flags & FLAG_FIN).length >= 2 ? seen : undefined;
    });
    const replies = frames.filter((f) => f.control && f.type === FRAME.synReply);
    expect(replies).toHaveLength(2);
    expect(frames.some((f) => f.control && f.type === FRAME.ping)).toBe(true);
    const data = frames.filter((f) => !f.control && f.streamId === 3 && f.data.byteLength > 0);
    expect(new TextDecoder().decode(concat(data.map((f) => f.data)))).toBe("port 80: GET /");
    const fins = frames.filter((f) => !f.control && f.flags & FLAG_FIN).map((f) => !f.control && f.streamId);
    expect(fins.sort()).toEqual([1, 3]);
  });
  test("a refused pod port is reported on the error stream", async () => {
    const s = pairSocket();
    runPortForward(s.socket, (port) => node.portForward("default", "web", port), "default/web");
    const enc = new HeaderEncoder();
    s.fromClient(synStream(1, enc.encode({ streamtype: "error", port: "81", requestid: "7" })));
    s.fromClient(synStream(3, enc.encode({ streamtype: "data", port: "81", requestid: "7" })));
    const reader = new FrameReader();
    const got: ReturnType<FrameReader["push"]> = [];
    await waitFor(() => {
      got.push(...reader.push(concat(s.sent.splice(0))));
      return got.filter((f) => !f.control && f.flags & FLAG_FIN).length >= 2;
    });
    const error = got.find((f) => !f.control && f.streamId === 1 && f.data.byteLength > 0)!;
    expect(new TextDecoder().decode(error.data)).toContain("connection refused");
  });

  function headerBlock(headers: Record<string, string>): Uint8Array {
    // same layout HeaderEncoder writes, minus the zlib framing
    const full = new HeaderEncoder().encode(headers);
    return full.subarray(6 + 5, full.byteLength - 5);
  }
  function storedBlock(plain: Uint8Array): Uint8Array {
    const head = new Uint8Array([
      0,
      plain.byteLength & 0xff,
      plain.byteLength >> 8,
      ~plain.byteLength & 0xff,
      (~plain.byteLength >> 8) & 0xff,
    ]);
    return concat([head, plain]);
  }
});

describe("channel port-forward", () => {
  test("port numbers first on both channels, data on 2i, errors on 2i+1, close 1000 when done", async () => {
    const s = pairSocket();
    runChannelPortForward(
      s.socket,
      (port) => node.portForward("default", "web", port),
      [80, 81],
      "default/web",
    );
    expect(s.sent.slice(0, 4).map((m) => [...m])).toEqual([
      [0, 80, 0],
      [1, 80, 0],
      [2, 81, 0],
      [3, 81, 0],
    ]);
    await waitFor(() => s.sent.some((m) => m[0] === 3 && m.byteLength > 3));
    const error = s.sent.find((m) => m[0] === 3 && m.byteLength > 3)!;
    expect(new TextDecoder().decode(error.subarray(1))).toContain("connection refused");
    s.fromClient(concat([new Uint8Array([0]), new TextEncoder().encode("hi")]));
    await waitFor(() => s.sent.some((m) => m[0] === 0 && m.byteLength > 3));
    const data = s.sent.find((m) => m[0] === 0 && m.byteLength > 3)!;
    expect(new TextDecoder().decode(data.subarray(1))).toBe("port 80: hi");
    expect(s.closed()).toBeUndefined();
  });
});

describe("metrics", () => {
  test("PodMetrics and NodeMetrics from node stats, listed in discovery", async () => {
    const pods = await (await get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")).json();
    expect(pods.kind).toBe("PodMetricsList");
    const usage = pods.items[0].containers[0].usage;
    expect(usage.memory).toBe("4096Ki");
    expect(usage.cpu).toMatch(/^\d+n$/);
    expect(Number.parseInt(usage.cpu, 10)).toBeGreaterThan(0);
    const nodes = await (await get("/apis/metrics.k8s.io/v1beta1/nodes")).json();
    expect(nodes.items[0].usage.memory).toBe(`${512 * 1024}Ki`);
    expect((await get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope")).status).toBe(404);
  });
});

describe("proxy", () => {
  test("pods/<name:port>/proxy relays one HTTP request, de-chunks the answer, keeps minik's credentials", async () => {
    const res = await get("/api/v1/namespaces/default/pods/web:8080/proxy/hello/there?x=1", {
      headers: { "X-Test": "yes", Cookie: "minik_session=secret" },
    });
    expect(res.status).toBe(203);
    expect(res.headers.get("X-Port")).toBe("8080");
    expect(res.headers.get("Transfer-Encoding")).toBeNull();
    expect(res.headers.get("Content-Security-Policy")).toStartWith("sandbox");
    const echoed = await res.text();
    expect(echoed).toStartWith("GET /hello/there?x=1 HTTP/1.1\r\n");
    expect(echoed).toContain("x-test: yes");
    expect(echoed).toContain("host: web:8080");
    expect(echoed).not.toContain("secret");
    expect(echoed.toLowerCase()).not.toContain("authorization");
  });

  test("services/<name>/proxy picks a ready pod and the target port; POST bodies pass", async () => {
    const pod = await client.get("pods", "default", "web");
    await client.update("pods", { ...pod, metadata: { ...pod.metadata, labels: { app: "web" } } });
    const fresh = await client.get("pods", "default", "web");
    await client.updateStatus("pods", {
      ...fresh,
      status: { ...(fresh.status as object), conditions: [{ type: "Ready", status: "True" }] },
    });
    await client.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 9090 }] },
    });
    const res = await get("/api/v1/namespaces/default/services/web:http/proxy/", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "payload",
    });
    expect(res.headers.get("X-Port")).toBe("9090");
    const echoed = await res.text();
    expect(echoed).toStartWith("POST / HTTP/1.1\r\n");
    expect(echoed).toContain("content-length: 7");
    expect(echoed).toEndWith("\r\n\r\npayload");
    const none = await get("/api/v1/namespaces/default/services/web:nope/proxy/");
    expect(none.status).toBe(503);
  });
});
