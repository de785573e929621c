import { describe, expect, test } from "bun:test";
import { type ApiError, isApiError } from "../errors.ts";
import { createSqlStore } from "../store/sql-store.ts";
import { storeErrors } from "../store/store-errors.ts";
import { fromStoreError, withApiErrors } from "./store-error-status.ts";

describe("store errors as the API answers them", () => {
  test("errors name the resource and group the way Kubernetes does", () => {
    const e = fromStoreError(storeErrors("endpointslices.discovery.k8s.io", "web-x").alreadyExists());
    expect(isApiError(e, "AlreadyExists")).toBe(true);
    expect((e as ApiError).message).toBe('endpointslices.discovery.k8s.io "web-x" already exists');
    expect((e as ApiError).details).toEqual({
      name: "web-x",
      group: "discovery.k8s.io",
      kind: "endpointslices",
    });
    const missing = fromStoreError(storeErrors("pods", "nope").notFound());
    expect((missing as ApiError).toStatus()).toMatchObject({
      reason: "NotFound",
      code: 404,
      message: 'pods "nope" not found',
    });
  });

  test("each store failure keeps its Status reason, code and message", async () => {
    const s = withApiErrors(await createSqlStore({ url: ":memory:", compactIntervalMs: 0 }));
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "a", namespace: "default", uid: "u" } };
    try {
      const a = await s.create("pods", pod);
      const status = async (p: Promise<unknown>) => {
        const e = (await p.catch((x: unknown) => x)) as ApiError;
        return `${e.code} ${e.reason}: ${e.message}`;
      };
      expect(
        await status(s.update("pods", { ...a, metadata: { ...a.metadata, resourceVersion: "0" } })),
      ).toBe(
        '409 Conflict: Operation cannot be fulfilled on pods "a": the object has been modified; please apply your changes to the latest version and try again',
      );
      expect(await status(s.delete("pods", "default", "a", { uid: "other" }))).toBe(
        "409 Conflict: Precondition failed: UID in precondition: other, UID in object meta: u",
      );
      expect(await status(s.watch({ sinceResourceVersion: "x" }, () => {}))).toBe(
        '400 BadRequest: a watch of all resources: resourceVersion "x" is not a decimal number; send a resourceVersion you read, or none',
      );
      expect(await status(s.watch({ sinceResourceVersion: "99" }, () => {}))).toBe(
        "410 Expired: too new resource version: 99 (newest is 1); the store was reset, list again",
      );
      expect(await status(s.create("pods", { apiVersion: "v1", kind: "Pod", metadata: {} }))).toBe(
        "422 Invalid: pods: metadata.name is required to store an object",
      );
    } finally {
      await s.close();
    }
    expect((fromStoreError(await s.get("pods", "default", "a").catch((x) => x)) as ApiError).code).toBe(503);
  });

  test("other errors pass unchanged", () => {
    const e = new Error("boom");
    expect(fromStoreError(e)).toBe(e);
  });
});
