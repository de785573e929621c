import { expect, test } from "bun:test";
import { createRemoteNodeServices } from "../client/remote-node-services.ts";
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
    openSocket: () => {
      throw new Error("no sockets in this test");
    },
  });
  return { app, remote };
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
