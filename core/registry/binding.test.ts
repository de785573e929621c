import { describe, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import type { KubeObject, WatchEvent } from "../object.ts";
import { errorOf, podManifest, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const target = (name: string) => ({ kind: "Node", name });

describe("pods/binding", () => {
  test("sets spec.nodeName and PodScheduled=True in one write, copying the Binding's annotations", async () => {
    const created = await fx.registry.create("pods", podManifest("web"));
    const events: WatchEvent[] = [];
    const stop = await fx.registry.watch(
      "pods",
      { namespace: "default", resourceVersion: created.metadata.resourceVersion },
      (e) => events.push(e),
    );
    const bound = await fx.registry.bind<KubeObject & Pod>("default", "web", {
      metadata: { name: "web", uid: created.metadata.uid, annotations: { "scheduler.example/score": "7" } },
      target: target("node-a"),
    });
    expect(bound.spec?.nodeName).toBe("node-a");
    expect(bound.metadata.annotations?.["scheduler.example/score"]).toBe("7");
    const scheduled = bound.status?.conditions?.find((c) => c.type === "PodScheduled");
    expect(scheduled).toMatchObject({ status: "True" });
    expect(scheduled?.lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(bound.status?.phase).toBe("Pending");
    await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(events.map((e) => e.type)).toEqual(["MODIFIED"]);
  });

  test("a pod already on a node, being deleted, or of another uid is a Conflict; nothing changes", async () => {
    const p = await fx.registry.create("pods", podManifest("a"));
    await fx.registry.bind("default", "a", { metadata: { name: "a" }, target: target("node-a") });
    const again = await errorOf(
      fx.registry.bind("default", "a", { metadata: { name: "a" }, target: target("node-b") }),
    );
    expect(again.reason).toBe("Conflict");
    expect(again.message).toContain('pod a is already assigned to node "node-a"');
    expect(((await fx.registry.get("pods", "default", "a")) as Pod).spec?.nodeName).toBe("node-a");

    await fx.registry.create("pods", podManifest("b"));
    const wrongUid = await errorOf(
      fx.registry.bind("default", "b", {
        metadata: { name: "b", uid: p.metadata.uid },
        target: target("node-a"),
      }),
    );
    expect(wrongUid.reason).toBe("Conflict");
    expect(wrongUid.message).toContain("Precondition failed: UID in precondition");

    const held = podManifest("c");
    held.metadata.finalizers = ["example.com/hold"];
    await fx.registry.create("pods", held);
    await fx.registry.delete("pods", "default", "c");
    const deleting = await errorOf(
      fx.registry.bind("default", "c", { metadata: { name: "c" }, target: target("node-a") }),
    );
    expect(deleting.reason).toBe("Conflict");
    expect(deleting.message).toContain("is being deleted, cannot be assigned to a host");
  });

  test("a Binding without a target name, to another kind, or for another pod is refused", async () => {
    await fx.registry.create("pods", podManifest("d"));
    expect(
      (await errorOf(fx.registry.bind("default", "d", { metadata: { name: "d" }, target: {} }))).reason,
    ).toBe("Invalid");
    const kind = await errorOf(
      fx.registry.bind("default", "d", { metadata: { name: "d" }, target: { kind: "Pod", name: "x" } }),
    );
    expect(kind.reason).toBe("Invalid");
    expect(kind.message).toContain("target.kind");
    const other = await errorOf(
      fx.registry.bind("default", "d", { metadata: { name: "e" }, target: target("n") }),
    );
    expect(other.reason).toBe("BadRequest");
    expect(((await fx.registry.get("pods", "default", "d")) as Pod).spec?.nodeName).toBeUndefined();
  });
});
