import { expect, test } from "bun:test";
import { managerFromUserAgent } from "./options.ts";
import { useApiServer } from "./testing/api-server.ts";

const api = useApiServer();
const CMS = "/api/v1/namespaces/default/configmaps";
function write(path: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  return api.call(path, { method, headers, body: JSON.stringify(body) });
}
const cm = (data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c" },
  data,
});

test("the User-Agent up to its first '/' is the manager of a write without ?fieldManager", async () => {
  const created = await (
    await write(CMS, "POST", cm({ a: "1" }), { "User-Agent": "OpenAPI-Generator/31.0.0/python" })
  ).json();
  expect(created.metadata.managedFields).toEqual([
    expect.objectContaining({
      manager: "OpenAPI-Generator",
      operation: "Update",
      apiVersion: "v1",
      fieldsV1: { "f:data": expect.objectContaining({ "f:a": {} }) },
    }),
  ]);
  const patched = await (
    await write(
      `${CMS}/c`,
      "PATCH",
      { data: { b: "2" } },
      {
        "Content-Type": "application/merge-patch+json",
        "User-Agent": "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07",
      },
    )
  ).json();
  expect(patched.metadata.managedFields.map((e: { manager: string }) => e.manager)).toEqual([
    "OpenAPI-Generator",
    "kubectl",
  ]);
  // An explicit ?fieldManager wins over the User-Agent.
  const named = await (
    await write(`${CMS}/c?fieldManager=mine`, "PUT", cm({ a: "9" }), { "User-Agent": "kubectl/v1.32.4" })
  ).json();
  expect(named.metadata.managedFields.map((e: { manager: string }) => e.manager)).toContain("mine");
});

test("a fieldManager longer than 128 bytes or unprintable is refused before anything is written", async () => {
  const long = await write(`${CMS}?fieldManager=${"x".repeat(129)}`, "POST", cm({}));
  expect(long.status).toBe(400);
  expect((await long.json()).message).toContain("fieldManager: Too long: may not be more than 128 bytes");
  const tab = await write(`${CMS}?fieldManager=a%09b`, "POST", cm({}));
  expect(tab.status).toBe(400);
  expect(await api.store.get("configmaps", "default", "c")).toBeUndefined();
  // Server-side apply still needs the query parameter, whatever the User-Agent says.
  const apply = await write(`${CMS}/c`, "PATCH", cm({}), {
    "Content-Type": "application/apply-patch+yaml",
    "User-Agent": "kubectl/v1.32.4",
  });
  expect(apply.status).toBe(400);
});

test("managerFromUserAgent drops unprintable characters and cuts at 128 bytes", () => {
  expect(managerFromUserAgent("kubectl/v1.32.4 (linux/amd64)")).toBe("kubectl");
  expect(managerFromUserAgent("a\u0007b/1")).toBe("ab");
  expect(managerFromUserAgent("é".repeat(100))).toBe("é".repeat(64));
  expect(managerFromUserAgent("")).toBe("");
});
