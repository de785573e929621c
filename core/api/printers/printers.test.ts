import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../object.ts";
import { humanDuration } from "./human-duration.ts";
import { printerFor } from "./index.ts";
import { podStatus } from "./pods.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const obj = (x: Record<string, unknown>) =>
  ({ apiVersion: "v1", kind: "X", metadata: { name: "x" }, ...x }) as KubeObject;

describe("humanDuration", () => {
  test("matches apimachinery's HumanDuration at every boundary", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [59, "59s"],
      [119, "119s"],
      [120, "2m"],
      [125, "2m5s"],
      [599, "9m59s"],
      [600, "10m"],
      [179 * 60, "179m"],
      [3 * 3600, "3h"],
      [3 * 3600 + 60, "3h1m"],
      [8 * 3600, "8h"],
      [47 * 3600, "47h"],
      [48 * 3600, "2d"],
      [50 * 3600, "2d2h"],
      [8 * 86400, "8d"],
      [729 * 86400, "729d"],
      [730 * 86400, "2y"],
      [731 * 86400, "2y1d"],
      [8 * 365 * 86400, "8y"],
    ];
    for (const [s, text] of cases) expect(`${s}:${humanDuration(s * 1000)}`).toBe(`${s}:${text}`);
    expect(humanDuration(-500)).toBe("0s");
    expect(humanDuration(-5000)).toBe("<invalid>");
  });
});

describe("pod STATUS, READY and RESTARTS", () => {
  const pod = (status: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    ({
      metadata: { name: "p", creationTimestamp: ago(30), ...((extra.metadata as object) ?? {}) },
      spec: {
        containers: [{ name: "a" }, { name: "b" }],
        initContainers: extra.init ? [{ name: "i1" }, { name: "i2" }] : undefined,
      },
      status,
    }) as never;
  const running = { name: "a", ready: true, restartCount: 0, state: { running: { startedAt: ago(20) } } };

  test("phase, waiting and terminated reasons", () => {
    expect(podStatus(pod({ phase: "Pending" }), NOW).reason).toBe("Pending");
    const creating = pod({
      phase: "Pending",
      containerStatuses: [
        { name: "a", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } },
      ],
    });
    expect(podStatus(creating, NOW)).toEqual({
      ready: 0,
      total: 2,
      reason: "ContainerCreating",
      restarts: "0",
    });
    const crash = pod({
      phase: "Running",
      containerStatuses: [
        {
          name: "a",
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: "CrashLoopBackOff" } },
          lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } },
        },
        running,
      ],
    });
    expect(podStatus(crash, NOW)).toEqual({
      ready: 1,
      total: 2,
      reason: "CrashLoopBackOff",
      restarts: "4 (5m ago)",
    });
    const done = pod({
      phase: "Succeeded",
      containerStatuses: [
        {
          name: "a",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0, reason: "Completed" } },
        },
      ],
    });
    expect(podStatus(done, NOW).reason).toBe("Completed");
    const failed = pod({
      phase: "Failed",
      containerStatuses: [
        { name: "a", ready: false, restartCount: 0, state: { terminated: { exitCode: 2, reason: "Error" } } },
      ],
    });
    expect(podStatus(failed, NOW).reason).toBe("Error");
    const noReason = pod({
      phase: "Failed",
      containerStatuses: [
        { name: "a", ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } },
      ],
    });
    expect(podStatus(noReason, NOW).reason).toBe("ExitCode:137");
    const both = pod({ phase: "Running", containerStatuses: [running, { ...running, name: "b" }] });
    expect(podStatus(both, NOW)).toEqual({ ready: 2, total: 2, reason: "Running", restarts: "0" });
  });

  test("init containers: Init:x/y, Init:<reason>", () => {
    const first = pod(
      {
        phase: "Pending",
        initContainerStatuses: [{ name: "i1", ready: false, restartCount: 0, state: { running: {} } }],
      },
      { init: true },
    );
    expect(podStatus(first, NOW).reason).toBe("Init:0/2");
    const second = pod(
      {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "i1",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: "Completed" } },
          },
          { name: "i2", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } },
        ],
      },
      { init: true },
    );
    expect(podStatus(second, NOW).reason).toBe("Init:1/2");
    const crash = pod(
      {
        phase: "Pending",
        initContainerStatuses: [
          { name: "i1", ready: false, restartCount: 2, state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
      { init: true },
    );
    expect(podStatus(crash, NOW)).toMatchObject({ reason: "Init:CrashLoopBackOff", restarts: "2" });
  });

  test("native sidecars count in READY; once initialized, RESTARTS counts theirs, not finished init containers'", () => {
    const withSidecar = {
      metadata: { name: "p", creationTimestamp: ago(30) },
      spec: {
        initContainers: [{ name: "setup" }, { name: "proxy", restartPolicy: "Always" }],
        containers: [{ name: "a" }],
      },
      status: {
        phase: "Running",
        conditions: [{ type: "Initialized", status: "True" }],
        initContainerStatuses: [
          { name: "setup", ready: true, restartCount: 3, state: { terminated: { exitCode: 0 } } },
          {
            name: "proxy",
            ready: true,
            started: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } },
          },
        ],
        containerStatuses: [running],
      },
    } as never;
    expect(podStatus(withSidecar, NOW)).toEqual({
      ready: 2,
      total: 2,
      reason: "Running",
      restarts: "1 (2m ago)",
    });
    const starting = {
      ...(withSidecar as object),
      status: {
        phase: "Pending",
        initContainerStatuses: [
          { name: "setup", ready: true, restartCount: 0, state: { terminated: { exitCode: 0 } } },
          { name: "proxy", ready: false, started: false, restartCount: 0, state: { running: {} } },
        ],
      },
    } as never;
    expect(podStatus(starting, NOW)).toMatchObject({ ready: 0, total: 2, reason: "Init:1/2" });
  });

  test("a pod being deleted is Terminating unless it already finished", () => {
    const terminating = pod(
      { phase: "Running", containerStatuses: [running] },
      { metadata: { deletionTimestamp: ago(1) } },
    );
    expect(podStatus(terminating, NOW).reason).toBe("Terminating");
    const finished = pod({ phase: "Succeeded" }, { metadata: { deletionTimestamp: ago(1) } });
    expect(podStatus(finished, NOW).reason).toBe("Succeeded");
  });

  test("row cells and the Completed row condition", () => {
    const printer = printerFor("pods");
    const p = obj({
      metadata: { name: "web", creationTimestamp: ago(90) },
      spec: { nodeName: "minik", containers: [{ name: "a" }] },
      status: {
        phase: "Succeeded",
        podIP: "10.88.0.4",
        containerStatuses: [
          {
            name: "a",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: "Completed" } },
          },
        ],
      },
    });
    expect(printer.cells(p, NOW)).toEqual([
      "web",
      "0/1",
      "Completed",
      "0",
      "90s",
      "10.88.0.4",
      "minik",
      "<none>",
      "<none>",
    ]);
    expect(printer.conditions?.(p)).toEqual([{ type: "Completed", status: "True" }]);
  });
});

describe("other printers", () => {
  test("services: ports, NodePort, external IP, selector", () => {
    const printer = printerFor("services");
    const svc = obj({
      metadata: { name: "web", creationTimestamp: ago(10) },
      spec: {
        type: "NodePort",
        clusterIP: "10.96.0.5",
        ports: [
          { port: 80, nodePort: 30080, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
        selector: { app: "web" },
      },
    });
    expect(printer.cells(svc, NOW)).toEqual([
      "web",
      "NodePort",
      "10.96.0.5",
      "<none>",
      "80:30080/TCP,53/UDP",
      "10s",
      "app=web",
    ]);
    const lb = obj({
      metadata: { name: "lb" },
      spec: { type: "LoadBalancer", clusterIP: "10.96.0.6", ports: [] },
    });
    expect(printer.cells(lb, NOW).slice(1, 5)).toEqual(["LoadBalancer", "10.96.0.6", "<pending>", "<none>"]);
  });

  test("events: last seen, object, wide columns", () => {
    const printer = printerFor("events");
    const ev = obj({
      metadata: { name: "web.1" },
      involvedObject: { kind: "Pod", name: "web" },
      type: "Warning",
      reason: "BackOff",
      message: "Back-off restarting failed container\n",
      source: { component: "kubelet", host: "minik" },
      firstTimestamp: ago(600),
      lastTimestamp: ago(5),
      count: 7,
    });
    expect(printer.cells(ev, NOW)).toEqual([
      "5s",
      "Warning",
      "BackOff",
      "pod/web",
      "",
      "kubelet, minik",
      "Back-off restarting failed container",
      "10m",
      7,
      "web.1",
    ]);
  });

  test("horizontal pod autoscalers, disruption budgets, endpoint slices", () => {
    const hpa = obj({
      metadata: { name: "web", creationTimestamp: ago(60) },
      spec: {
        scaleTargetRef: { kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
          },
        ],
      },
      status: {
        currentReplicas: 2,
        currentMetrics: [
          { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 40 } } },
        ],
      },
    });
    expect(printerFor("horizontalpodautoscalers.autoscaling").cells(hpa, NOW)).toEqual([
      "web",
      "Deployment/web",
      "cpu: 40%/50%",
      "1",
      5,
      2,
      "60s",
    ]);
    const pdb = obj({
      metadata: { name: "b" },
      spec: { minAvailable: "50%" },
      status: { disruptionsAllowed: 1 },
    });
    expect(printerFor("poddisruptionbudgets.policy").cells(pdb, NOW).slice(0, 4)).toEqual([
      "b",
      "50%",
      "N/A",
      1,
    ]);
    const slice = obj({
      metadata: { name: "web-abc" },
      addressType: "IPv4",
      ports: [{ port: 80 }],
      endpoints: ["10.88.0.2", "10.88.0.3", "10.88.0.4", "10.88.0.5"].map((a) => ({ addresses: [a] })),
    });
    expect(printerFor("endpointslices.discovery.k8s.io").cells(slice, NOW).slice(0, 4)).toEqual([
      "web-abc",
      "IPv4",
      "80",
      "10.88.0.2,10.88.0.3,10.88.0.4 + 1 more...",
    ]);
  });

  test("unknown kinds get NAME and CREATED AT", () => {
    const printer = printerFor("limitranges");
    expect(printer.columns.map((c) => c.name)).toEqual(["Name", "Created At"]);
    expect(
      printer.cells(obj({ metadata: { name: "p", creationTimestamp: "2026-11-25T11:00:00Z" } }), NOW),
    ).toEqual(["p", "2026-11-25T11:00:00Z"]);
  });
});
