import { describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createController } from "./controller.ts";

describe("controller", () => {
  test("errors requeue with backoff until the reconcile succeeds; conflicts are not logged", async () => {
    const logs: string[] = [];
    let calls = 0;
    const { ApiError } = await import("../errors.ts");
    const c = createController({
      name: "t",
      log: (m) => logs.push(m),
      reconcile: async () => {
        calls++;
        if (calls === 1) throw ApiError.conflict("pods", "x");
        if (calls === 2) throw new Error("boom");
        return undefined;
      },
    });
    c.start();
    c.enqueue("default/x");
    await waitFor(() => calls === 3, { what: "three attempts" });
    expect(logs).toEqual(["t: reconciling default/x: boom"]);
    await c.stop();
  });

  test("one reconcile per key at a time, even with several workers", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const c = createController({
      name: "t",
      workers: 4,
      reconcile: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
        runs++;
        return undefined;
      },
    });
    c.start();
    for (let i = 0; i < 5; i++) c.enqueue("same");
    await waitFor(() => runs >= 1 && running === 0);
    c.enqueue("same");
    await waitFor(() => runs >= 2 && running === 0);
    expect(most).toBe(1);
    await c.stop();
  });
});
