import { describe, expect, test } from "bun:test";
import {
  addRoute,
  emptyRouteTable,
  matchRoute,
  pathMatches,
  requestHost,
  sortRoutes,
} from "./ingress-match.ts";

const prefix = (path: string) => ({ path, pathType: "Prefix" as const, backend: path });
const exact = (path: string) => ({ path, pathType: "Exact" as const, backend: `=${path}` });

describe("ingress path matching (Kubernetes' examples table)", () => {
  const cases: Array<[ReturnType<typeof prefix> | ReturnType<typeof exact>, string, boolean]> = [
    [prefix("/"), "/anything", true],
    [exact("/foo"), "/foo", true],
    [exact("/foo"), "/bar", false],
    [exact("/foo"), "/foo/", false],
    [exact("/foo/"), "/foo", false],
    [prefix("/foo"), "/foo", true],
    [prefix("/foo"), "/foo/", true],
    [prefix("/foo/"), "/foo", true],
    [prefix("/foo/"), "/foo/", true],
    [prefix("/aaa/bb"), "/aaa/bbb", false],
    [prefix("/aaa/bbb"), "/aaa/bbb", true],
    [prefix("/aaa/bbb/"), "/aaa/bbb", true],
    [prefix("/aaa/bbb"), "/aaa/bbb/", true],
    [prefix("/aaa/bbb"), "/aaa/bbb/ccc", true],
    [prefix("/aaa/bbb"), "/aaa/bbbxyz", false],
  ];
  for (const [route, path, want] of cases)
    test(`${route.pathType} ${route.path} ${want ? "matches" : "does not match"} ${path}`, () => {
      expect(pathMatches(route, path)).toBe(want);
    });
});

describe("ingress precedence", () => {
  function table() {
    const t = emptyRouteTable<string>();
    addRoute(t, "", prefix("/"));
    addRoute(t, "", prefix("/aaa"));
    addRoute(t, "", prefix("/aaa/bbb"));
    addRoute(t, "", exact("/aaa/bbb"));
    addRoute(t, "foo.example.com", prefix("/"));
    addRoute(t, "*.example.com", prefix("/wild"));
    addRoute(t, "Exact.example.com", exact("/only"));
    sortRoutes(t);
    return t;
  }

  test("the longest path wins, and Exact beats Prefix of the same path", () => {
    const t = table();
    expect(matchRoute(t, "other.org", "/aaa/bbb")?.backend).toBe("=/aaa/bbb");
    expect(matchRoute(t, "other.org", "/aaa/bbb/c")?.backend).toBe("/aaa/bbb");
    expect(matchRoute(t, "other.org", "/aaa/x")?.backend).toBe("/aaa");
    expect(matchRoute(t, "other.org", "/z")?.backend).toBe("/");
  });

  test("an exact host beats a wildcard, a wildcard beats a rule without host", () => {
    const t = table();
    expect(matchRoute(t, "foo.example.com", "/wild")?.backend).toBe("/");
    expect(matchRoute(t, "bar.example.com", "/wild/x")?.backend).toBe("/wild");
    // a host whose own rules match no path falls through to less specific rules
    expect(matchRoute(t, "bar.example.com", "/aaa")?.backend).toBe("/aaa");
    expect(matchRoute(t, "exact.example.com", "/only")?.backend).toBe("=/only");
  });

  test("a wildcard covers exactly one label", () => {
    const t = emptyRouteTable<string>();
    addRoute(t, "*.example.com", prefix("/"));
    sortRoutes(t);
    expect(matchRoute(t, "a.example.com", "/")).toBeDefined();
    expect(matchRoute(t, "a.b.example.com", "/")).toBeUndefined();
    expect(matchRoute(t, "example.com", "/")).toBeUndefined();
  });

  test("no matching rule: undefined (the default backend or 404 is the router's call)", () => {
    const t = emptyRouteTable<string>();
    addRoute(t, "a.test", prefix("/app"));
    sortRoutes(t);
    expect(matchRoute(t, "a.test", "/other")).toBeUndefined();
    expect(matchRoute(t, "b.test", "/app")).toBeUndefined();
  });

  test("the Host header loses its port and case", () => {
    expect(requestHost("Foo.Example.com:8080")).toBe("foo.example.com");
    expect(requestHost("a.test")).toBe("a.test");
    expect(requestHost("[::1]:80")).toBe("[::1]");
    expect(requestHost(null)).toBe("");
  });
});
