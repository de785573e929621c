import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Test helper: a "pod" that is just a network namespace running `busybox httpd`, answering every
 * request with its own name. Needs no crun, so the data path is tested on its own.
 */
export interface TestHttpd {
  stop(): Promise<void>;
}

export async function startHttpd(netnsPath: string, name: string, port = 80): Promise<TestHttpd> {
  const dir = mkdtempSync(join(tmpdir(), `httpd-${name}-`));
  writeFileSync(join(dir, "index.html"), name);
  const proc = Bun.spawn(
    ["nsenter", `--net=${netnsPath}`, "busybox", "httpd", "-f", "-p", String(port), "-h", dir],
    {
      stdout: "ignore",
      stderr: "ignore",
    },
  );
  return {
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One HTTP GET on a fresh connection from inside a namespace (busybox wget); the body, or undefined. */
export async function wgetFrom(
  netnsPath: string,
  url: string,
  timeoutSeconds = 2,
): Promise<string | undefined> {
  // busybox-static 1.35's wget crashes with -T, so the deadline comes from timeout(1).
  const proc = Bun.spawn(
    [
      "timeout",
      String(timeoutSeconds),
      "nsenter",
      `--net=${netnsPath}`,
      "busybox",
      "wget",
      "-q",
      "-O",
      "-",
      url,
    ],
    {
      stdout: "pipe",
      stderr: "ignore",
    },
  );
  const [body, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return code === 0 ? body.trim() : undefined;
}

/** One HTTP GET on a fresh connection from the host; the body, or undefined on failure. */
export async function getFromHost(url: string, timeoutMs = 2000): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      headers: { connection: "close" },
      keepalive: false,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return (await res.text()).trim();
  } catch {
    return undefined;
  }
}

export function tally(values: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v ?? "(failed)"] = (out[v ?? "(failed)"] ?? 0) + 1;
  return out;
}

/**
 * Runs `fn` `count` times, `width` at a time: busybox httpd's small listen backlog drops SYNs
 * (a 1 s retransmit) when dozens of connections arrive at once.
 */
export async function repeat<T>(count: number, fn: () => Promise<T>, width = 6): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += width) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(width, count - i) }, fn))));
  }
  return out;
}

/** A UDP "pod": answers every datagram with its name, from inside the namespace (Bun under nsenter). */
export async function startUdpResponder(netnsPath: string, name: string, port: number): Promise<TestHttpd> {
  const script = `await Bun.udpSocket({ port: ${port}, socket: { data(s, _d, p, a) { s.send(${JSON.stringify(name)}, p, a); } } }); console.log("ready");`;
  const proc = Bun.spawn(["nsenter", `--net=${netnsPath}`, process.execPath, "-e", script], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const reader = proc.stdout.getReader();
  await reader.read(); // "ready"
  reader.releaseLock();
  return {
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

/** Sends one datagram from a fixed local port (so conntrack sees the same flow each time); the reply, or undefined. */
export async function udpAsk(
  from: { hostname: string; port: number },
  to: string,
  port: number,
  timeoutMs = 1000,
): Promise<string | undefined> {
  const { promise, resolve } = Promise.withResolvers<string | undefined>();
  const socket = await Bun.udpSocket({
    hostname: from.hostname,
    port: from.port,
    socket: {
      data: (_s, data) => resolve(new TextDecoder().decode(data)),
      // ICMP port unreachable (a Service without endpoints is rejected) arrives as an error.
      error: () => resolve(undefined),
    },
  });
  const timer = setTimeout(() => resolve(undefined), timeoutMs);
  try {
    socket.send("who", port, to);
  } catch {
    resolve(undefined); // EPERM: rejected on the way out (the output hook)
  }
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

/** `busybox nslookup ARGS… SERVER` from inside a namespace; stdout and stderr together. */
export async function nslookup(netnsPath: string, server: string, ...args: string[]): Promise<string> {
  const proc = Bun.spawn(
    ["timeout", "5", "nsenter", `--net=${netnsPath}`, "busybox", "nslookup", ...args, server],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return out + err;
}
