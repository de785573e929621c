import { expect, test } from "bun:test";
import type { PodSpec } from "kubernetes-types/core/v1";
import { validatePodSpec } from "./pod-spec.ts";

const messages = (spec: PodSpec) => validatePodSpec(spec, "spec").map((c) => `${c.field}: ${c.message}`);
const app = { name: "app", image: "busybox" };
const probe = { exec: { command: ["true"] } };

test("hostNetwork: a hostPort must be the containerPort", () => {
  const spec = (hostPort: number): PodSpec => ({
    hostNetwork: true,
    containers: [{ ...app, ports: [{ containerPort: 9100, hostPort }] }],
  });
  expect(messages(spec(9100))).toEqual([]);
  expect(messages(spec(9200))).toEqual([
    "spec.containers[0].ports[0].hostPort: Invalid value: 9200: must match `containerPort` when `hostNetwork` is true",
  ]);
  expect(messages({ ...spec(9200), hostNetwork: false })).toEqual([]);
});

test("init containers: restartPolicy only Always; probes and lifecycle only on sidecars", () => {
  expect(
    messages({
      initContainers: [
        {
          name: "side",
          image: "busybox",
          restartPolicy: "Always",
          readinessProbe: probe,
          startupProbe: probe,
        },
      ],
      containers: [app],
    }),
  ).toEqual([]);
  expect(
    messages({
      initContainers: [{ name: "i", image: "busybox", restartPolicy: "Never" }],
      containers: [app],
    }),
  ).toEqual(['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  expect(
    messages({
      initContainers: [{ name: "i", image: "busybox", readinessProbe: probe, lifecycle: { preStop: probe } }],
      containers: [app],
    }),
  ).toEqual([
    "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always",
    "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
  ]);
  expect(messages({ containers: [{ ...app, restartPolicy: "Always" }] })).toEqual([
    "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
  ]);
});

test("liveness and startup probes succeed after one success", () => {
  expect(
    messages({
      initContainers: [
        {
          name: "side",
          image: "busybox",
          restartPolicy: "Always",
          startupProbe: { ...probe, successThreshold: 2 },
        },
      ],
      containers: [
        {
          ...app,
          livenessProbe: { ...probe, successThreshold: 3 },
          readinessProbe: { ...probe, successThreshold: 3 },
        },
      ],
    }),
  ).toEqual([
    "spec.initContainers[0].startupProbe.successThreshold: Invalid value: 2: must be 1",
    "spec.containers[0].livenessProbe.successThreshold: Invalid value: 3: must be 1",
  ]);
});
