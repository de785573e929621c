import { cpus } from "node:os";
import type { ContainerStatus as KubeContainerStatus, Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime, ContainerStatus } from "../seams/container-runtime.ts";
import type { DuplexStream, NodeServices, PodStats } from "../seams/node-services.ts";
import { readNodeWorkingSet } from "./node-memory.ts";

/**
 * NodeServices over the runtime: pod and container names are mapped to runtime container ids
 * the way the kubelet does it, using the pod's status (lastState for `--previous` and for a
 * container in CrashLoopBackOff) and the runtime's own list.
 */
export interface NodeServicesDeps {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  dial: (ip: string, port: number) => Promise<DuplexStream>;
}

type PodObject = Pod & KubeObject;

function badRequest(message: string): ApiError {
  return new ApiError("BadRequest", message);
}

export function createNodeServices(deps: NodeServicesDeps): NodeServices {
  const { client, runtime } = deps;

  async function podOf(namespace: string, name: string): Promise<PodObject> {
    const pod = await client.get<PodObject>("pods", namespace, name);
    const node = pod.spec?.nodeName;
    // the API server routes other nodes' pods to their node API (core/client/node-router.ts)
    if (node && node !== deps.nodeName)
      throw new ApiError(
        "BadRequest",
        `pod ${namespace}/${name} runs on node ${node}, not on node ${deps.nodeName}: ask the API server, which reaches that node's node API`,
      );
    return pod;
  }

  function containerName(pod: PodObject, container: string | undefined): string {
    const specs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    const name =
      container ||
      pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"] ||
      pod.spec?.containers[0]?.name ||
      "";
    if (!specs.some((c) => c.name === name)) {
      throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    }
    return name;
  }

  async function attempts(pod: PodObject, name: string): Promise<ContainerStatus[]> {
    return (await runtime.listContainers())
      .filter((c) => c.podUid === pod.metadata.uid && c.name === name)
      .sort((a, b) => b.attempt - a.attempt);
  }

  function statusOf(pod: PodObject, name: string): KubeContainerStatus | undefined {
    const s = pod.status;
    return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? [])].find(
      (c) => c.name === name,
    );
  }

  const idOf = (containerID: string | undefined) => containerID?.slice(containerID.indexOf("://") + 3);

  /** The kubelet's choice of which container's log to show. */
  async function logTarget(pod: PodObject, name: string, previous: boolean): Promise<string> {
    const podName = pod.metadata.name;
    const status = statusOf(pod, name);
    const list = await attempts(pod, name);
    const known = (id: string | undefined) => (id && list.some((c) => c.id === id) ? id : undefined);
    if (previous) {
      const id = known(idOf(status?.lastState?.terminated?.containerID)) ?? list[1]?.id;
      if (!id) throw badRequest(`previous terminated container "${name}" in pod "${podName}" not found`);
      return id;
    }
    if (status?.state?.waiting) {
      const last = known(idOf(status.lastState?.terminated?.containerID));
      if (last) return last;
      // The status may lag the runtime by a moment: a container that exists has logs.
      if (list[0]) return list[0].id;
      const reason = status.state.waiting.reason ?? "ContainerCreating";
      const why =
        reason === "ErrImagePull"
          ? "image can't be pulled"
          : reason === "ImagePullBackOff"
            ? "trying and failing to pull image"
            : reason;
      throw badRequest(`container "${name}" in pod "${podName}" is waiting to start: ${why}`);
    }
    const id = known(idOf(status?.containerID)) ?? list[0]?.id;
    if (!id)
      throw badRequest(`container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`);
    return id;
  }

  async function runningAttempt(
    namespace: string,
    podName: string,
    container: string | undefined,
  ): Promise<ContainerStatus> {
    const pod = await podOf(namespace, podName);
    const name = containerName(pod, container);
    const running = (await attempts(pod, name)).find((c) => c.state === "running");
    if (running) return running;
    const waiting = statusOf(pod, name)?.state?.waiting?.reason;
    throw badRequest(
      waiting
        ? `container "${name}" in pod "${podName}" is waiting to start: ${waiting}`
        : `container "${name}" in pod "${podName}" is not running`,
    );
  }

  return {
    async logs(namespace, podName, container, options) {
      const pod = await podOf(namespace, podName);
      const name = containerName(pod, container);
      const id = await logTarget(pod, name, Boolean(options.previous));
      const { previous: _previous, ...rest } = options;
      return runtime.logs(id, rest);
    },

    async inspect(namespace, podName, container) {
      const pod = await podOf(namespace, podName);
      const name = containerName(pod, container);
      const newest = (await attempts(pod, name))[0];
      if (!newest) {
        const waiting = statusOf(pod, name)?.state?.waiting?.reason ?? "ContainerCreating";
        throw badRequest(
          `container "${name}" in pod "${podName}" has not been created yet (${waiting}): nothing to inspect`,
        );
      }
      return runtime.inspect(newest.id);
    },

    async exec(namespace, podName, container, command, options) {
      const running = await runningAttempt(namespace, podName, container);
      return runtime.exec(running.id, command, options);
    },

    async attach(namespace, podName, container, options) {
      const running = await runningAttempt(namespace, podName, container);
      return runtime.attach(running.id, options);
    },

    async portForward(namespace, podName, port) {
      const pod = await podOf(namespace, podName);
      const sandbox = (await runtime.listPodSandboxes()).find((s) => s.podUid === pod.metadata.uid);
      if (!sandbox?.ip) {
        throw badRequest(`pod "${podName}" has no IP address yet; port-forward needs a running pod`);
      }
      try {
        return await deps.dial(sandbox.ip, port);
      } catch (e) {
        throw new ApiError(
          "InternalError",
          `error forwarding port ${port} to pod ${podName}: ${e instanceof Error ? e.message : e}`,
        );
      }
    },

    async podStats(namespace) {
      const pods = (await client.list<PodObject>("pods", namespace ? { namespace } : {})).items.filter(
        (p) => p.spec?.nodeName === deps.nodeName,
      );
      const containers = (await runtime.listContainers()).filter((c) => c.state === "running");
      const out: PodStats[] = [];
      for (const pod of pods) {
        const mine = containers.filter((c) => c.podUid === pod.metadata.uid);
        if (mine.length === 0) continue;
        const stats: PodStats["containers"] = [];
        for (const c of mine) {
          const s = await runtime.stats(c.id);
          if (s) stats.push({ ...s, name: c.name });
        }
        out.push({
          namespace: pod.metadata.namespace ?? "default",
          name: pod.metadata.name ?? "",
          containers: stats,
        });
      }
      return out;
    },

    async nodeStats() {
      const cpuMs = cpus().reduce(
        (sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq,
        0,
      );
      return {
        cpuUsageNanoSeconds: cpuMs * 1e6,
        memoryWorkingSetBytes: await readNodeWorkingSet(),
        timestamp: new Date().toISOString(),
      };
    },
  };
}
