import { describe, expect, test } from "bun:test";
import { decodeProtobufObject } from "./decode.ts";
import { encodeProtobufObject, encodeWatchEvent } from "./encode.ts";
import { readFields } from "./wire.ts";

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
/** kubectl 1.32's `create secret generic s --from-literal=pw=s3` body (see decode.test.ts). */
const KUBECTL_SECRET = "azhzAAoMCgJ2MRIGU2VjcmV0EiYKGAoBcxIAGgdkZWZhdWx0IgAqADIAOABCABIICgJwdxICczMaABoAIgA=";

const meta = (name: string) => ({
  name,
  namespace: "default",
  uid: "0d9a7c1e-2f4b-4f7e-9c1a-1b2c3d4e5f60",
  resourceVersion: "42",
  generation: 3,
  creationTimestamp: "2026-12-06T15:00:00Z",
  labels: { app: name, "": "empty-key" },
  annotations: { note: "" },
  ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u", controller: true }],
  finalizers: ["example.com/keep"],
  managedFields: [
    {
      manager: "kubectl",
      operation: "Apply",
      apiVersion: "v1",
      time: "2026-12-06T15:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:metadata": { "f:labels": {} } },
    },
  ],
});

/** One object per described kind, in the shape minik stores them (zero pointer scalars included). */
const OBJECTS: Record<string, unknown>[] = [
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web"),
    spec: {
      replicas: 0,
      selector: {
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "t", operator: "In", values: ["a"] }],
      },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "nginx",
              image: "nginx:1.25",
              ports: [{ containerPort: 80, protocol: "TCP" }],
              resources: { limits: { cpu: "500m", memory: "64Mi" } },
              env: [{ name: "A", value: "1" }],
            },
          ],
          volumes: [{ name: "cfg", configMap: { name: "cfg", defaultMode: 420 } }],
          terminationGracePeriodSeconds: 0,
        },
      },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 } },
    },
    status: {
      observedGeneration: 3,
      conditions: [
        {
          type: "Available",
          status: "True",
          lastUpdateTime: "2026-12-06T15:00:01Z",
          lastTransitionTime: "2026-12-06T15:00:01Z",
        },
      ],
    },
  },
  { apiVersion: "v1", kind: "Secret", metadata: meta("s"), data: { pw: btoa("s3") }, type: "Opaque" },
  { apiVersion: "v1", kind: "ConfigMap", metadata: meta("c"), data: { a: "1" }, immutable: false },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta("svc"),
    spec: {
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
      selector: { app: "web" },
      clusterIP: "10.96.0.10",
      clusterIPs: ["10.96.0.10"],
      type: "ClusterIP",
    },
  },
  {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: meta("l"),
    spec: { holderIdentity: "minik", leaseDurationSeconds: 40, renewTime: "2026-12-06T15:00:00.123456Z" },
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "view" },
    rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }],
  },
];

describe("protobuf responses", () => {
  test("encode(decode(x)) is x byte for byte for canonical bodies", () => {
    for (const obj of OBJECTS) {
      const once = encodeProtobufObject(obj)!;
      expect(once).toBeDefined();
      expect(encodeProtobufObject(decodeProtobufObject(once))).toEqual(once);
    }
    // kubectl's own body: Go also writes empty non-pointer fields, which the encoder leaves out;
    // the object read back is the same.
    const kubectl = decodeProtobufObject(bytes(KUBECTL_SECRET));
    expect(decodeProtobufObject(encodeProtobufObject(kubectl)!)).toEqual(kubectl);
  });

  test("decode(encode(obj)) deep-equals obj for every kind, pointer zeros and all", () => {
    for (const obj of OBJECTS) expect(decodeProtobufObject(encodeProtobufObject(obj)!)).toEqual(obj);
  });

  test("explicit zeros and empty strings are written: for pointer fields they are the information", () => {
    const pod = (securityContext: object) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "i", securityContext }] },
    });
    const bare = encodeProtobufObject(pod({}))!;
    // privileged (field 2) = false and runAsUser (field 4) = 0: 2 bytes each on the wire
    const zeros = encodeProtobufObject(pod({ runAsUser: 0, privileged: false }))!;
    expect(zeros.byteLength).toBe(bare.byteLength + 4);
    expect([...zeros].join(",")).toContain([0x10, 0x00, 0x20, 0x00].join(","));
  });

  test("lists: ListMeta then items without their type meta", () => {
    const list = {
      apiVersion: "v1",
      kind: "ConfigMapList",
      metadata: { resourceVersion: "9", continue: "tok", remainingItemCount: 2 },
      items: [OBJECTS[2], { ...(OBJECTS[2] as object), metadata: meta("d") }],
    };
    const back = decodeProtobufObject(encodeProtobufObject(list)!) as any;
    expect(back.metadata).toEqual(list.metadata);
    expect(back.items.map((i: any) => i.metadata.name)).toEqual(["c", "d"]);
    expect(back.items[0].kind).toBeUndefined();
  });

  test("Status is meta.k8s.io's message, whatever the group", () => {
    const status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "x" not found',
      reason: "NotFound",
      details: { name: "x", kind: "pods", causes: [{ field: "spec", message: "m", reason: "r" }] },
      code: 404,
    };
    expect(decodeProtobufObject(encodeProtobufObject(status)!)).toEqual(status);
  });

  test("a field the description lacks, or a kind without one, is not encoded", () => {
    expect(encodeProtobufObject({ ...OBJECTS[2], extra: 1 })).toBeUndefined();
    expect(encodeProtobufObject({ ...OBJECTS[2], data: { a: 1 } })).toBeUndefined();
    expect(
      encodeProtobufObject({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x" } }),
    ).toBe(undefined);
  });

  test("a watch frame is a length-prefixed WatchEvent whose object is enveloped", () => {
    const frame = encodeWatchEvent("ADDED", OBJECTS[2])!;
    const length = new DataView(frame.buffer).getUint32(0);
    expect(length).toBe(frame.byteLength - 4);
    const event = readFields(frame.subarray(4));
    expect(new TextDecoder().decode(event.get(1)![0]!.value as Uint8Array)).toBe("ADDED");
    const raw = readFields(event.get(2)![0]!.value as Uint8Array).get(1)![0]!.value as Uint8Array;
    expect(decodeProtobufObject(raw)).toEqual(OBJECTS[2]);
  });
});
