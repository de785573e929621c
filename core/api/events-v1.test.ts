import { describe, expect, test } from "bun:test";
import { useApiServer } from "./testing/api-server.ts";

const api = useApiServer();
const call = api.call;
const V1 = "/apis/events.k8s.io/v1/namespaces/default/events";
const event = {
  apiVersion: "events.k8s.io/v1",
  kind: "Event",
  metadata: { name: "web.1" },
  eventTime: "2026-12-06T12:00:00.000000Z",
  reportingController: "example.com/ctl",
  reportingInstance: "ctl-0",
  action: "Scaling",
  reason: "ScaledUp",
  type: "Normal",
  note: "scaled up to 3",
  regarding: { kind: "Deployment", namespace: "default", name: "web", apiVersion: "apps/v1" },
};

describe("events.k8s.io/v1", () => {
  test("created in v1 fields, read back in both versions from the one storage", async () => {
    const res = await call(V1, { method: "POST", body: JSON.stringify(event) });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      note: "scaled up to 3",
      regarding: { name: "web" },
    });
    expect(created.message).toBeUndefined();
    const core = await (await call("/api/v1/namespaces/default/events/web.1")).json();
    expect(core).toMatchObject({
      apiVersion: "v1",
      message: "scaled up to 3",
      involvedObject: { kind: "Deployment", name: "web" },
      reportingComponent: "example.com/ctl",
      reportingInstance: "ctl-0",
      action: "Scaling",
    });
    const list = await (await call(V1)).json();
    expect(list.apiVersion).toBe("events.k8s.io/v1");
    expect(list.items[0].note).toBe("scaled up to 3");
    const patched = await (
      await call(`${V1}/web.1`, {
        method: "PATCH",
        headers: { "Content-Type": "application/merge-patch+json" },
        body: JSON.stringify({
          series: { count: 2, lastObservedTime: "2026-12-06T12:01:00.000000Z" },
          note: "again",
        }),
      })
    ).json();
    expect(patched).toMatchObject({ note: "again", series: { count: 2 } });
    expect((await (await call("/api/v1/namespaces/default/events/web.1")).json()).message).toBe("again");
  });

  test("a core event reads in v1 names; the v1 create rules are upstream's", async () => {
    await call("/api/v1/namespaces/default/events", {
      method: "POST",
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: "old.1" },
        involvedObject: { kind: "Pod", name: "p", namespace: "default" },
        reason: "Pulled",
        message: "pulled",
        count: 3,
        type: "Normal",
        source: { component: "kubelet" },
      }),
    });
    const v1 = await (await call(`${V1}/old.1`)).json();
    expect(v1).toMatchObject({
      note: "pulled",
      deprecatedCount: 3,
      deprecatedSource: { component: "kubelet" },
    });
    const bad = await call(V1, {
      method: "POST",
      body: JSON.stringify({ ...event, eventTime: undefined, type: "Bad", deprecatedCount: 2 }),
    });
    expect(bad.status).toBe(422);
    const s = await bad.json();
    expect(s.message).toContain('Event.events.k8s.io "web.1" is invalid: eventTime: Required value');
    expect(s.message).toContain("type: Invalid value");
    expect(s.message).toContain("deprecatedCount: Invalid value");
    expect((await call("/api/v1/namespaces/default/events/web.1")).status).toBe(404);
  });

  test("YAML answers are converted too", async () => {
    await call(V1, { method: "POST", body: JSON.stringify(event) });
    const res = await call(`${V1}/web.1`, { headers: { Accept: "application/yaml" } });
    expect(res.headers.get("Content-Type")).toBe("application/yaml");
    const text = await res.text();
    expect(text).toContain("apiVersion: events.k8s.io/v1\n");
    expect(text).toContain("note: scaled up to 3\n");
  });

  test("listed in discovery", async () => {
    const list = await (await call("/apis/events.k8s.io/v1")).json();
    expect(list.resources.map((r: { name: string }) => r.name)).toEqual(["events"]);
  });
});
