import type { Container, LifecycleHandler, Probe } from "kubernetes-types/core/v1";
import type { Clock } from "../loop/clock.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";
import type { DuplexStream } from "../seams/node-services.ts";

/**
 * Running a probe or lifecycle-hook action against a container: exec in it, an HTTP GET or a
 * TCP connect to its pod IP, or (hooks) a sleep. Always bounded by a timeout; never throws.
 */
export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

export interface HandlerDeps {
  runtime: ContainerRuntime;
  clock: Clock;
  dial: (ip: string, port: number) => Promise<DuplexStream>;
}

export interface HandlerTarget {
  containerId: string;
  spec: Container;
  podIP?: string;
}

export type Handler = Pick<Probe, "exec" | "httpGet" | "tcpSocket" | "grpc"> &
  Pick<LifecycleHandler, "sleep">;

export async function runHandler(
  deps: HandlerDeps,
  target: HandlerTarget,
  handler: Handler,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  let timer: unknown;
  const abort = new AbortController();
  const timeout = new Promise<ProbeOutcome>((resolve) => {
    timer = deps.clock.setTimeout(() => {
      abort.abort();
      resolve({ ok: false, message: timeoutMessage(target, handler) });
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt(deps, target, handler, abort.signal), timeout]);
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  } finally {
    deps.clock.clearTimeout(timer);
  }
}

function timeoutMessage(cp: HandlerTarget, probe: Handler): string {
  if (probe.exec) return `command ${JSON.stringify(probe.exec.command?.join(" ") ?? "")} timed out`;
  if (probe.httpGet) return `Get "${httpUrl(cp, probe)}": context deadline exceeded`;
  const port = probe.tcpSocket ? resolvePort(cp.spec, probe.tcpSocket.port) : 0;
  return `dial tcp ${cp.podIP}:${port}: i/o timeout`;
}

function resolvePort(spec: Container, port: number | string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = spec.ports?.find((p) => p.name === port);
  if (!named) throw new Error(`unable to find port ${JSON.stringify(port)} in container ${spec.name}`);
  return named.containerPort;
}

function httpUrl(cp: HandlerTarget, probe: Handler): string {
  const h = probe.httpGet!;
  const scheme = (h.scheme ?? "HTTP").toLowerCase();
  const host = h.host || cp.podIP || "127.0.0.1";
  const path = h.path ? (h.path.startsWith("/") ? h.path : `/${h.path}`) : "/";
  return `${scheme}://${host}:${resolvePort(cp.spec, h.port)}${path}`;
}

async function attempt(
  deps: HandlerDeps,
  cp: HandlerTarget,
  probe: Handler,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  if (probe.exec) {
    const session = await deps.runtime.exec(cp.containerId, probe.exec.command ?? [], {
      tty: false,
      stdin: false,
    });
    signal.addEventListener("abort", () => session.kill(), { once: true });
    const [out, err, code] = await Promise.all([
      new Response(session.stdout).text(),
      session.stderr ? new Response(session.stderr).text() : "",
      session.exited,
    ]);
    return { ok: code === 0, message: `${out}${err}`.trim() || `command exited with ${code}` };
  }
  if (probe.httpGet) {
    const url = httpUrl(cp, probe);
    const headers = new Headers({ "User-Agent": "kube-probe/1.32", Accept: "*/*" });
    for (const h of probe.httpGet.httpHeaders ?? []) headers.set(h.name, h.value);
    const res = await fetch(url, { headers, signal, redirect: "manual" });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 400;
    return { ok, message: ok ? "" : `HTTP probe failed with statuscode: ${res.status}` };
  }
  if (probe.tcpSocket) {
    const host = probe.tcpSocket.host || cp.podIP || "127.0.0.1";
    const port = resolvePort(cp.spec, probe.tcpSocket.port);
    try {
      const conn = await deps.dial(host, port);
      conn.close();
      return { ok: true, message: "" };
    } catch (e) {
      return { ok: false, message: `dial tcp ${host}:${port}: ${e instanceof Error ? e.message : e}` };
    }
  }
  if (probe.grpc) return { ok: false, message: "gRPC probes are not supported by minik" };
  if (probe.sleep) {
    await new Promise<void>((resolve) => {
      const t = deps.clock.setTimeout(resolve, probe.sleep!.seconds * 1000);
      signal.addEventListener(
        "abort",
        () => {
          deps.clock.clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
    return { ok: true, message: "" };
  }
  return { ok: true, message: "" };
}
