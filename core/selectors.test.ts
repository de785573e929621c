import { describe, expect, test } from "bun:test";
import { ApiError } from "./errors.ts";
import type { KubeObject } from "./object.ts";
import {
  labelSelectorMatches,
  labelSelectorToString,
  parseFieldSelector,
  parseLabelSelector,
} from "./selectors.ts";

describe("label selectors", () => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ["", { a: "1" }, true],
    ["app=web", { app: "web" }, true],
    ["app==web", { app: "web" }, true],
    ["app=web", { app: "db" }, false],
    ["app!=web", { app: "db" }, true],
    ["app!=web", undefined, true],
    ["app in (web, db)", { app: "db" }, true],
    ["app in (web,db),tier", { app: "db" }, false],
    ["app notin (web)", {}, true],
    ["app notin (web)", { app: "web" }, false],
    ["tier", { tier: "" }, true],
    ["!tier", { tier: "x" }, false],
    ["!tier,app=web", { app: "web" }, true],
    ["example.com/role=a", { "example.com/role": "a" }, true],
  ];
  for (const [text, labels, want] of cases) {
    test(`${JSON.stringify(text)} on ${JSON.stringify(labels)} → ${want}`, () => {
      expect(parseLabelSelector(text).matches(labels)).toBe(want);
    });
  }

  test("bad syntax is a BadRequest", () => {
    expect(() => parseLabelSelector("a=b=c")).toThrow(ApiError);
    expect(() => parseLabelSelector("-bad=x")).toThrow("invalid label key");
  });

  test("structured selectors: nil matches nothing, {} everything, expressions", () => {
    expect(labelSelectorMatches(undefined, { a: "1" })).toBe(false);
    expect(labelSelectorMatches({}, { a: "1" })).toBe(true);
    const sel = {
      matchLabels: { app: "web" },
      matchExpressions: [{ key: "env", operator: "In", values: ["a", "b"] }],
    };
    expect(labelSelectorMatches(sel, { app: "web", env: "b" })).toBe(true);
    expect(labelSelectorMatches(sel, { app: "web", env: "c" })).toBe(false);
    expect(labelSelectorToString(sel)).toBe("app=web,env in (a,b)");
    expect(labelSelectorToString({ matchExpressions: [{ key: "x", operator: "DoesNotExist" }] })).toBe("!x");
    // sorted as apimachinery prints them: by key, values in order
    expect(
      labelSelectorToString({
        matchLabels: { tier: "db" },
        matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }],
      }),
    ).toBe("app in (api,web),tier=db");
  });
});

describe("field selectors", () => {
  const pod = (name: string, nodeName?: string, phase = "Running"): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName },
    status: { phase },
  });

  test("pods by name, node and phase; empty value selects unset fields", () => {
    expect(parseFieldSelector("pods", "metadata.name=a").matches(pod("a"))).toBe(true);
    expect(parseFieldSelector("pods", "metadata.name==b").matches(pod("a"))).toBe(false);
    expect(parseFieldSelector("pods", "spec.nodeName=").matches(pod("a"))).toBe(true);
    expect(parseFieldSelector("pods", "spec.nodeName=n1").matches(pod("a", "n1"))).toBe(true);
    expect(parseFieldSelector("pods", "spec.nodeName=n1,status.phase!=Running").matches(pod("a", "n1"))).toBe(
      false,
    );
  });

  test("events by involvedObject (kubectl describe)", () => {
    const ev: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "e", namespace: "default" },
      involvedObject: { kind: "Deployment", name: "x", namespace: "default", uid: "u1" },
      type: "Normal",
      reason: "ScalingReplicaSet",
    };
    const sel = parseFieldSelector(
      "events",
      "involvedObject.name=x,involvedObject.namespace=default,involvedObject.kind=Deployment,involvedObject.uid=u1",
    );
    expect(sel.matches(ev)).toBe(true);
    expect(parseFieldSelector("events", "type=Warning").matches(ev)).toBe(false);
    expect(parseFieldSelector("events", "reason=ScalingReplicaSet").matches(ev)).toBe(true);
  });

  test("unsupported fields name themselves", () => {
    expect(() => parseFieldSelector("deployments.apps", "spec.replicas=1")).toThrow(
      "field label not supported: spec.replicas",
    );
  });
});
