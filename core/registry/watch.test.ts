import { describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import type { WatchEvent } from "../object.ts";
import { deploymentManifest, podManifest as pod, reason, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const _deployment = deploymentManifest;

describe("list and watch", () => {
  test("label and field selectors filter lists", async () => {
    await fx.registry.create("pods", pod("a", { nodeName: "n1" }));
    await fx.registry.create("pods", { ...pod("b"), metadata: { name: "b", labels: { app: "q" } } });
    const byLabel = await fx.registry.list("pods", { labelSelector: "app in (p)" });
    expect(byLabel.items.map((p) => p.metadata.name)).toEqual(["a"]);
    const unbound = await fx.registry.list("pods", { fieldSelector: "spec.nodeName=" });
    expect(unbound.items.map((p) => p.metadata.name)).toEqual(["b"]);
    const byName = await fx.registry.list("pods", {
      namespace: "default",
      fieldSelector: "metadata.name=a,spec.nodeName=n1",
    });
    expect(byName.items.map((p) => p.metadata.name)).toEqual(["a"]);
    expect(Number(byName.resourceVersion)).toBeGreaterThanOrEqual(
      Number(byName.items[0]!.metadata.resourceVersion),
    );
    const wrongNode = await fx.registry.list("pods", {
      namespace: "default",
      fieldSelector: "metadata.name=a,spec.nodeName=n2",
    });
    expect(wrongNode.items).toEqual([]);
    expect(await reason(fx.registry.list("pods", { fieldSelector: "spec.foo=x" }))).toBe(
      "400 BadRequest: field label not supported: spec.foo",
    );
  });

  test("watch from 0 replays ADDED, from N only later changes, selector flips", async () => {
    await fx.registry.create("pods", pod("a"));
    const listed = await fx.registry.list("pods", { namespace: "default" });
    const fromZero: WatchEvent[] = [];
    const fromN: WatchEvent[] = [];
    const selected: WatchEvent[] = [];
    const stops = await Promise.all([
      fx.registry.watch("pods", { namespace: "default", resourceVersion: "0" }, (e) => fromZero.push(e)),
      fx.registry.watch("pods", { namespace: "default", resourceVersion: listed.resourceVersion }, (e) =>
        fromN.push(e),
      ),
      fx.registry.watch("pods", { labelSelector: "app=p" }, (e) => selected.push(e)),
    ]);
    const b = await fx.registry.create("pods", pod("b"));
    await fx.registry.update("pods", { ...b, metadata: { ...b.metadata, labels: { app: "other" } } });
    await fx.registry.delete("pods", "default", "a");
    const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name}`);
    await waitFor(() => fromZero.length >= 4 && fromN.length >= 3 && selected.length >= 4, {
      timeoutMs: 2000,
      intervalMs: 5,
    });
    expect(summary(fromZero)).toEqual(["ADDED a", "ADDED b", "MODIFIED b", "DELETED a"]);
    expect(summary(fromN)).toEqual(["ADDED b", "MODIFIED b", "DELETED a"]);
    expect(summary(selected)).toEqual(["ADDED a", "ADDED b", "DELETED b", "DELETED a"]);
    expect(fromZero.every((e) => e.object.apiVersion === "v1" && e.object.kind === "Pod")).toBe(true);
    for (const stop of stops) stop();
  });
});
