import { expect, test } from "bun:test";
import { FakeNodeServices } from "../api/testing/fake-node-services.ts";
import type { Client } from "../seams/client.ts";
import type { NodeServices } from "../seams/node-services.ts";
import { createNodeRouter, NODE_API_CERTIFICATE_ANNOTATION } from "./node-router.ts";

const objects: Record<string, unknown> = {
  "pods/here": { metadata: { name: "here" }, spec: { nodeName: "server" } },
  "pods/there": { metadata: { name: "there" }, spec: { nodeName: "node2" } },
  "pods/pending": { metadata: { name: "pending" }, spec: {} },
  "pods/lost": { metadata: { name: "lost" }, spec: { nodeName: "node3" } },
  "nodes/node2": {
    metadata: { name: "node2", annotations: { [NODE_API_CERTIFICATE_ANNOTATION]: "PEM" } },
    status: {
      addresses: [{ type: "InternalIP", address: "10.0.0.2" }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10260 } },
    },
  },
  "nodes/node3": { metadata: { name: "node3" }, status: {} },
  "pods/uncertified": { metadata: { name: "uncertified" }, spec: { nodeName: "node4" } },
  "nodes/node4": {
    metadata: { name: "node4" },
    status: {
      addresses: [{ type: "InternalIP", address: "10.0.0.4" }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    },
  },
};
const client = {
  get: async (resource: string, _ns: string, name: string) => objects[`${resource}/${name}`],
} as unknown as Client;

function setup() {
  const local = new FakeNodeServices();
  local.logLines.set("default/here/c", ["local line"]);
  const remote = new FakeNodeServices();
  remote.logLines.set("default/there/c", ["remote line"]);
  const calls: string[] = [];
  const router = createNodeRouter({
    client,
    local: { nodeName: "server", services: local },
    remote: (nodeName, url, certificate): NodeServices => {
      calls.push(`${nodeName} ${url} ${certificate}`);
      return remote;
    },
  });
  return { router, calls };
}

const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();

test("a pod's node decides: the server's own node in process, a joined one at its InternalIP and kubelet port", async () => {
  const { router, calls } = setup();
  expect(await text(await router.logs("default", "here", "c", {}))).toBe("local line\n");
  expect(calls).toEqual([]);
  expect(await text(await router.logs("default", "there", "c", {}))).toBe("remote line\n");
  expect(calls).toEqual(["node2 https://10.0.0.2:10260 PEM"]);
});

test("an unscheduled pod and a node without an address are said plainly", async () => {
  const { router } = setup();
  await expect(router.logs("default", "pending", "c", {})).rejects.toThrow("is not scheduled to a node yet");
  await expect(router.exec("default", "lost", "c", ["ls"], { tty: false, stdin: false })).rejects.toThrow(
    "node node3 of pod default/lost publishes no InternalIP and kubelet port",
  );
  await expect(router.logs("default", "uncertified", "c", {})).rejects.toThrow(
    "node node4 of pod default/uncertified publishes no node API certificate",
  );
});
