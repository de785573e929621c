import { expect, test } from "bun:test";
import { requestAttributes } from "./request-attributes.ts";

const attrs = (method: string, path: string) => requestAttributes(method, new URL(`https://x${path}`));

test("verbs, groups, namespaces, names and subresources as RBAC sees them", () => {
  expect(attrs("GET", "/api/v1/namespaces/team/pods")).toMatchObject({
    verb: "list",
    apiGroup: "",
    resource: "pods",
    namespace: "team",
    name: "",
  });
  expect(attrs("GET", "/api/v1/namespaces/team/pods?watch=true")).toMatchObject({ verb: "watch" });
  expect(attrs("GET", "/api/v1/watch/namespaces/team/pods")).toMatchObject({
    verb: "watch",
    resource: "pods",
    namespace: "team",
  });
  expect(attrs("GET", "/api/v1/namespaces/team/pods/web/log")).toMatchObject({
    verb: "get",
    name: "web",
    subresource: "log",
  });
  expect(attrs("POST", "/api/v1/namespaces/team/serviceaccounts/default/token")).toMatchObject({
    verb: "create",
    resource: "serviceaccounts",
    subresource: "token",
  });
  expect(attrs("DELETE", "/apis/apps/v1/namespaces/team/deployments")).toMatchObject({
    verb: "deletecollection",
    apiGroup: "apps",
  });
  expect(attrs("PATCH", "/apis/apps/v1/namespaces/team/deployments/web/scale")).toMatchObject({
    verb: "patch",
    subresource: "scale",
  });
  expect(attrs("GET", "/api/v1/nodes")).toMatchObject({ verb: "list", resource: "nodes", namespace: "" });
  expect(attrs("GET", "/api/v1/namespaces/team")).toMatchObject({
    verb: "get",
    resource: "namespaces",
    name: "team",
  });
  expect(attrs("PUT", "/api/v1/namespaces/team/finalize")).toMatchObject({
    resource: "namespaces",
    name: "team",
    subresource: "finalize",
  });
  expect(attrs("GET", "/api/v1/namespaces/team/pods/web/proxy/a/b")).toMatchObject({
    name: "web",
    subresource: "proxy",
  });
});

test("everything else is a non-resource URL with the HTTP verb", () => {
  for (const path of ["/api", "/apis", "/apis/apps/v1", "/version", "/openapi/v3", "/metrics"])
    expect(attrs("GET", path)).toEqual({ resourceRequest: false, verb: "get", path });
  expect(attrs("POST", "/minik/v1/login-links")).toMatchObject({ resourceRequest: false, verb: "post" });
});
