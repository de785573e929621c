import { expect, test } from "bun:test";
import { createRemoteNodeServices } from "../client/remote-node-services.ts";
import { memoryWebSocket } from "../client/testing/memory-web-socket.ts";
import type { Client } from "../seams/client.ts";
import { createNodeApi } from "./node-api.ts";
import { FakeNodeServices } from "./testing/fake-node-services.ts";

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u1" },
  spec: { nodeName: "node2", containers: [{ name: "c", image: "busybox" }] },
  status: { containerStatuses: [{ name: "c", state: { running: {} } }] },
};
const client = { get: async () => pod } as unknown as Client;

function setup(credential = "right") {
  const node = new FakeNodeServices();
  node.logLines.set("default/web/c", ["one", "two", "three"]);
  const app = createNodeApi({ client, node, credential: "right" });
  const remote = createRemoteNodeServices({
    nodeName: "node2",
    url: "https://10.0.0.2:10250",
    credential,
    fetch: async (input, init) => app.fetch(new Request(input, init)),
    openSocket: (url, protocols, headers) =>
      memoryWebSocket((req, env) => app.fetch(req, env), url, protocols, headers),
  });
  return { app, remote, node };
}

const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();

test("the server's NodeServices reads a joined node's logs through its node API (tail, timestamps)", async () => {
  const { remote } = setup();
  expect(await text(await remote.logs("default", "web", "c", {}))).toBe("one\ntwo\nthree\n");
  expect(await text(await remote.logs("default", "web", undefined, { tailLines: 1 }))).toBe("three\n");
  expect(await text(await remote.logs("default", "web", "c", { timestamps: true, tailLines: 1 }))).toMatch(
    /^\d{4}-\d\d-\d\dT\S+Z three\n$/,
  );
});

test("the node's errors come back as the same ApiError", async () => {
  const { remote } = setup();
  await expect(remote.logs("default", "web", "nope", {})).rejects.toThrow(
    "container nope is not valid for pod web",
  );
});

test("a wrong or missing credential is 401 Unauthorized, before anything is read", async () => {
  const { app, remote } = setup("wrong");
  await expect(remote.logs("default", "web", "c", {})).rejects.toMatchObject({ reason: "Unauthorized" });
  const bare = await app.fetch(new Request("https://n/api/v1/namespaces/default/pods/web/log"));
  expect(bare.status).toBe(401);
  expect(((await bare.json()) as { kind: string }).kind).toBe("Status");
});

test("only log, exec, attach and portforward are served", async () => {
  const { app } = setup();
  const res = await app.fetch(
    new Request("https://n/api/v1/namespaces/default/pods/web/status", {
      headers: { Authorization: "Bearer right" },
    }),
  );
  expect(res.status).toBe(404);
});

test("exec through the node API: stdout, stderr, the exit code and stdin with its EOF", async () => {
  const { remote } = setup();
  const echo = await remote.exec("default", "web", "c", ["echo", "hi"], { tty: false, stdin: false });
  expect(await text(echo.stdout)).toBe("hi\n");
  expect(await echo.exited).toBe(0);
  const err = await remote.exec("default", "web", "c", ["stderr", "oops"], { tty: false, stdin: false });
  expect(await text(err.stderr!)).toBe("oops\n");
  const fail = await remote.exec("default", "web", "c", ["exit", "3"], { tty: false, stdin: false });
  expect(await fail.exited).toBe(3);
  const cat = await remote.exec("default", "web", "c", ["cat"], { tty: false, stdin: true });
  const writer = cat.stdin!.getWriter();
  await writer.write(new TextEncoder().encode("through stdin\n"));
  await writer.close();
  expect(await text(cat.stdout)).toBe("through stdin\n");
  expect(await cat.exited).toBe(0);
});

test("a tty session gets its size through the resize channel", async () => {
  const { remote, node } = setup();
  const s = await remote.exec("default", "web", "c", ["size"], {
    tty: true,
    stdin: true,
    size: { cols: 120, rows: 40 },
  });
  expect(s.stderr).toBeUndefined();
  expect(await text(s.stdout)).toBe("120x40\n");
  expect(node.resizes).toEqual([{ cols: 120, rows: 40 }]);
});

test("a refused credential fails the exec WebSocket with a message naming the node", async () => {
  const { remote } = setup("wrong");
  await expect(remote.exec("default", "web", "c", ["echo"], { tty: false, stdin: false })).rejects.toThrow(
    "cannot reach the node API of node node2",
  );
});

test("port-forward through the node API carries bytes both ways", async () => {
  const { remote } = setup();
  const conn = await remote.portForward("default", "web", 8080);
  const writer = conn.writable.getWriter();
  await writer.write(new TextEncoder().encode("ping"));
  const reader = conn.readable.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("port 8080: ping");
  conn.close();
});

test("attach through the node API reaches the main process's stdin", async () => {
  const { remote, node } = setup();
  node.stdinOnceCats.add("default/web");
  const s = await remote.attach("default", "web", "c", { tty: false, stdin: true });
  const writer = s.stdin!.getWriter();
  await writer.write(new TextEncoder().encode("to main\n"));
  await writer.close();
  expect(await text(s.stdout)).toBe("to main\n");
  expect(await s.exited).toBe(0);
});

test("minik inspect of a joined node's pod comes from its node API", async () => {
  const { remote } = setup();
  const inspection = await remote.inspect("default", "web", "c");
  expect(inspection.name).toBe("c");
  expect(inspection.cgroup?.cpu?.percentOfOneCpu).toBe(30);
  await expect(remote.inspect("default", "other", undefined)).rejects.toMatchObject({ reason: "NotFound" });
});
