import { describe, expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import { jsonMergePatch } from "./json-merge.ts";
import { jsonPatch } from "./json-patch.ts";
import { strategicMerge } from "./strategic-merge.ts";

const podTemplate = (spec: object, metadata: object = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "x", ...metadata },
  spec: { replicas: 1, template: { metadata: { labels: { app: "x" } }, spec } },
});

interface Case {
  name: string;
  kind: string;
  original: object;
  patch: object;
  want: object;
}

// Bodies as kubectl 1.32 sends them (see the wire reference, §6.1).
const cases: Case[] = [
  {
    name: "set image merges containers by name, keeps other fields",
    kind: "Deployment",
    original: podTemplate({
      containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }],
    }),
    patch: {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }],
            containers: [{ image: "nginx:1.8", name: "nginx" }],
          },
        },
      },
    },
    want: podTemplate({
      containers: [{ name: "nginx", image: "nginx:1.8", ports: [{ containerPort: 80 }] }],
    }),
  },
  {
    name: "apply removes ports (null), adds env and a sidecar in the given order",
    kind: "Deployment",
    original: podTemplate({
      containers: [{ name: "nginx", image: "nginx", ports: [{ containerPort: 80 }] }],
    }),
    patch: {
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }],
            containers: [
              { env: [{ name: "A", value: "1" }], name: "nginx", ports: null },
              { command: ["sleep", "1d"], image: "busybox", name: "sidecar" },
            ],
          },
        },
      },
    },
    want: podTemplate({
      containers: [
        { name: "nginx", image: "nginx", env: [{ name: "A", value: "1" }] },
        { command: ["sleep", "1d"], image: "busybox", name: "sidecar" },
      ],
    }),
  },
  {
    name: "$patch delete removes a list item; null removes labels",
    kind: "Deployment",
    original: podTemplate(
      {
        containers: [
          { name: "nginx", image: "nginx", env: [{ name: "A", value: "1" }] },
          { name: "sidecar", image: "busybox" },
        ],
      },
      { labels: { a: "b" } },
    ),
    patch: {
      metadata: { labels: null },
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "nginx" }],
            containers: [
              { env: null, name: "nginx" },
              { $patch: "delete", name: "sidecar" },
            ],
          },
        },
      },
    },
    want: podTemplate({ containers: [{ name: "nginx", image: "nginx" }] }),
  },
  {
    name: "$retainKeys on strategy and volumes, $deleteFromPrimitiveList on finalizers",
    kind: "Deployment",
    original: {
      metadata: { name: "x", finalizers: ["example.com/a", "example.com/b"] },
      spec: {
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%" } },
        template: {
          spec: { containers: [{ name: "c", args: ["x", "y"] }], volumes: [{ name: "v", emptyDir: {} }] },
        },
      },
    },
    patch: {
      metadata: {
        "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
        "$setElementOrder/finalizers": ["example.com/a"],
      },
      spec: {
        strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" },
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "c" }],
            "$setElementOrder/volumes": [{ name: "v" }],
            containers: [{ args: ["a"], name: "c" }],
            volumes: [
              { $retainKeys: ["hostPath", "name"], emptyDir: null, hostPath: { path: "/tmp" }, name: "v" },
            ],
          },
        },
      },
    },
    want: {
      metadata: { name: "x", finalizers: ["example.com/a"] },
      spec: {
        strategy: { type: "Recreate" },
        template: {
          spec: {
            containers: [{ name: "c", args: ["a"] }],
            volumes: [{ name: "v", hostPath: { path: "/tmp" } }],
          },
        },
      },
    },
  },
  {
    name: "rollout restart adds a template annotation; pause and resume",
    kind: "Deployment",
    original: podTemplate({ containers: [] }),
    patch: {
      spec: {
        paused: true,
        template: {
          metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-25T13:33:02Z" } },
        },
      },
    },
    want: {
      ...podTemplate({ containers: [] }),
      spec: {
        replicas: 1,
        paused: true,
        template: {
          metadata: {
            labels: { app: "x" },
            annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-25T13:33:02Z" },
          },
          spec: { containers: [] },
        },
      },
    },
  },
  {
    name: "ports merge on containerPort in a container but on port in a Service",
    kind: "Service",
    original: { metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } },
    patch: { spec: { ports: [{ port: 80, targetPort: 9090 }] } },
    want: { metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }] } },
  },
  {
    name: "lists without a merge key (args, tolerations) are atomic",
    kind: "Pod",
    original: {
      metadata: { name: "p" },
      spec: { tolerations: [{ key: "a" }, { key: "b" }], containers: [{ name: "c", args: ["1", "2"] }] },
    },
    patch: { spec: { tolerations: [{ key: "c" }], containers: [{ name: "c", args: ["3"] }] } },
    want: {
      metadata: { name: "p" },
      spec: { tolerations: [{ key: "c" }], containers: [{ name: "c", args: ["3"] }] },
    },
  },
  {
    name: "$patch replace on a list and on a map",
    kind: "Pod",
    original: {
      metadata: { name: "p", labels: { a: "1", b: "2" } },
      spec: { containers: [{ name: "a" }, { name: "b" }] },
    },
    patch: {
      metadata: { labels: { $patch: "replace", c: "3" } },
      spec: { containers: [{ name: "z" }, { $patch: "replace" }] },
    },
    want: { metadata: { name: "p", labels: { c: "3" } }, spec: { containers: [{ name: "z" }] } },
  },
  {
    name: "conditions merge on type; finalizers merge as a set",
    kind: "Pod",
    original: {
      metadata: { name: "p", finalizers: ["a"] },
      status: {
        conditions: [
          { type: "Ready", status: "False" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
    patch: {
      metadata: { finalizers: ["b", "a"] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    },
    want: {
      metadata: { name: "p", finalizers: ["a", "b"] },
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "PodScheduled", status: "True" },
        ],
      },
    },
  },
  {
    name: "$setElementOrder keeps server-only items where they stood",
    kind: "Pod",
    original: {
      metadata: { name: "p" },
      spec: { containers: [{ name: "a" }, { name: "x" }, { name: "b" }] },
    },
    patch: {
      spec: {
        "$setElementOrder/containers": [{ name: "b" }, { name: "c" }, { name: "a" }],
        containers: [{ name: "c" }],
      },
    },
    want: {
      metadata: { name: "p" },
      spec: { containers: [{ name: "x" }, { name: "b" }, { name: "c" }, { name: "a" }] },
    },
  },
  {
    name: "$patch delete on a map removes it",
    kind: "Deployment",
    original: { metadata: { name: "x" }, spec: { strategy: { type: "Recreate" }, replicas: 2 } },
    patch: { spec: { strategy: { $patch: "delete" } } },
    want: { metadata: { name: "x" }, spec: { replicas: 2 } },
  },
  {
    name: "ownerReferences merge on uid",
    kind: "Pod",
    original: {
      metadata: {
        name: "p",
        ownerReferences: [
          { uid: "1", name: "a" },
          { uid: "2", name: "b" },
        ],
      },
    },
    patch: { metadata: { ownerReferences: [{ uid: "2", controller: true }] } },
    want: {
      metadata: {
        name: "p",
        ownerReferences: [
          { uid: "1", name: "a" },
          { uid: "2", name: "b", controller: true },
        ],
      },
    },
  },
];

describe("strategic merge patch", () => {
  for (const c of cases) {
    test(c.name, () => {
      const before = structuredClone(c.original);
      expect(strategicMerge(c.original, c.patch, c.kind)).toEqual(c.want);
      expect(c.original).toEqual(before);
    });
  }

  test("a list item without its merge key is a BadRequest", () => {
    expect(() => strategicMerge({}, { spec: { containers: [{ image: "x" }] } }, "Pod")).toThrow(
      "does not contain declared merge key: name",
    );
  });
});

describe("JSON merge patch (RFC 7386)", () => {
  test("merges maps, null deletes, lists replace", () => {
    expect(jsonMergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({
      a: { c: 2, d: 3 },
      l: [3],
    });
    expect(jsonMergePatch({ a: 1 }, { spec: { replicas: 3 } })).toEqual({ a: 1, spec: { replicas: 3 } });
  });
});

describe("JSON patch (RFC 6902)", () => {
  test("applies operations and reports a failed test as Invalid", () => {
    expect(
      jsonPatch({ spec: { replicas: 1 } }, [{ op: "replace", path: "/spec/replicas", value: 2 }]),
    ).toEqual({ spec: { replicas: 2 } });
    let err: unknown;
    try {
      jsonPatch({ spec: { replicas: 1 } }, [{ op: "test", path: "/spec/replicas", value: 5 }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
  });
});
