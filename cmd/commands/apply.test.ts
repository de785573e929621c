import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useApiServer } from "../../core/api/testing/api-server.ts";
import { ApiError } from "../../core/errors.ts";
import { apply } from "./apply.ts";

const api = useApiServer();
const SERVER = "http://minik.test";
let dir: string;
let sent: string[];
const realFetch = globalThis.fetch;
const realLog = console.log;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "minik-apply-"));
  sent = [];
  // the CLI's requests go to the in-process API server
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    sent.push(`${req.method} ${url.pathname}${url.searchParams.has("dryRun") ? " (dry run)" : ""}`);
    return api.app.fetch(req);
  }) as typeof fetch;
  console.log = () => {};
});
afterEach(() => {
  globalThis.fetch = realFetch;
  console.log = realLog;
  rmSync(dir, { recursive: true, force: true });
});

const opts = { server: SERVER, token: "t" };
const configMap = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

function manifest(text: string): string {
  const file = join(dir, "m.yaml");
  writeFileSync(file, text);
  return file;
}

test("a lone object is created by one write, with no dry run before it", async () => {
  await apply([manifest(configMap("one"))], opts);
  expect(sent).toEqual([
    "GET /api/v1/namespaces/default/configmaps/one",
    "POST /api/v1/namespaces/default/configmaps",
  ]);
  const cm = await api.client.get("configmaps", "default", "one");
  expect(cm.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain('"one"');
});

test("a lone invalid object is refused with the server's reason and nothing is stored", async () => {
  const err = await apply([manifest(configMap("Not_Valid"))], opts).catch((e) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).reason).toBe("Invalid");
  expect((err as ApiError).message).toContain("Not_Valid");
  expect((await api.client.list("configmaps", { namespace: "default" })).items).toHaveLength(0);
});

test("several objects are all dry-run first: one invalid object means none is applied", async () => {
  const file = manifest(`${configMap("good")}---\n${configMap("Not_Valid")}`);
  const err = await apply([file], opts).catch((e) => e);
  expect((err as ApiError).reason).toBe("Invalid");
  expect(sent.filter((s) => s.endsWith("(dry run)"))).toHaveLength(2);
  expect(await api.client.tryGet("configmaps", "default", "good")).toBeUndefined();
});

test("applying a lone object again patches what changed", async () => {
  await apply([manifest(configMap("one"))], opts);
  sent = [];
  await apply([manifest(configMap("one").replace("k: v", "k: w"))], opts);
  expect(sent).toEqual([
    "GET /api/v1/namespaces/default/configmaps/one",
    "PATCH /api/v1/namespaces/default/configmaps/one",
  ]);
  expect((await api.client.get("configmaps", "default", "one")).data).toEqual({ k: "w" });
});
