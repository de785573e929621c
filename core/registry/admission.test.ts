import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { AdmissionRequest } from "./admission.ts";
import { createRegistry } from "./registry.ts";
import { errorOf, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name },
  data,
});

describe("admission hooks", () => {
  test("see each operation, may mutate, and roll back when the write does not happen", async () => {
    const seen: string[] = [];
    const rolledBack: string[] = [];
    const registry = createRegistry(fx.store, {
      admit: [
        (req: AdmissionRequest) => {
          seen.push(
            `${req.operation} ${req.object.metadata.name}${req.dryRun ? " dry" : ""}${req.oldObject ? " +old" : ""}`,
          );
          if (req.operation === "CREATE")
            (req.object as { data?: Record<string, string> }).data = { stamped: "yes" };
          return () => rolledBack.push(req.object.metadata.name!);
        },
      ],
    });
    const created = await registry.create("configmaps", cm("a"));
    expect(created.data).toEqual({ stamped: "yes" });
    expect((await errorOf(registry.create("configmaps", cm("a")))).reason).toBe("AlreadyExists");
    expect(rolledBack).toEqual(["a"]);
    await registry.create("configmaps", cm("b"), { dryRun: true });
    await registry.update("configmaps", { ...created, data: { x: "1" } });
    await registry.delete("configmaps", "default", "a");
    expect(seen).toEqual(["CREATE a", "CREATE a", "CREATE b dry", "UPDATE a +old", "DELETE a +old"]);
  });

  test("a hook that throws rejects the write", async () => {
    const registry = createRegistry(fx.store, {
      admit: [
        (req) => {
          if (req.object.metadata.name === "forbidden") throw new ApiError("Forbidden", "no");
        },
      ],
    });
    expect((await errorOf(registry.create("configmaps", cm("forbidden")))).code).toBe(403);
    expect(await registry.tryGet("configmaps", "default", "forbidden")).toBeUndefined();
  });
});

describe("watch history", () => {
  test("a resourceVersion older than the kept history is Expired (410)", async () => {
    const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0, changeLogLimit: 5 });
    const registry = createRegistry(store);
    await registry.bootstrap();
    const first = await registry.create("configmaps", cm("c0"));
    for (let i = 1; i < 20; i++) await registry.create("configmaps", cm(`c${i}`));
    await store.compact();
    const err = await errorOf(
      registry.watch("configmaps", { resourceVersion: first.metadata.resourceVersion }, () => {}),
    );
    expect(err.code).toBe(410);
    await store.close();
  });
});
