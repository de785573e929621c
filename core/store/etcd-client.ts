import { Buffer } from "node:buffer";

/**
 * A small etcd v3 client over etcd's JSON gateway (`POST /v3/kv/...`, `/v3/watch`): fetch and web
 * streams only, so it runs on Bun, Deno and Node alike, with no gRPC stack. Keys and values are
 * strings here; the gateway's base64 and int64-as-string encodings stay inside this file.
 * Requests go to the first endpoint that answers, so a cluster member going down is survived.
 */
export interface EtcdKv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface EtcdEvent {
  type: "PUT" | "DELETE";
  kv: EtcdKv;
  prevKv?: EtcdKv;
}

export type EtcdCompare =
  | { key: string; target: "CREATE"; createRevision: number }
  | { key: string; target: "MOD"; modRevision: number };

export type EtcdOp =
  | { put: { key: string; value: string } }
  | { deleteRange: { key: string; prevKv?: boolean } }
  | { range: { key: string } };

export interface EtcdClientOptions {
  endpoints: string[];
  fetch?: typeof fetch;
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
  /** How long requests keep trying while no member answers (default 5 s). */
  failoverMs?: number;
}

export class EtcdError extends Error {
  constructor(
    message: string,
    /** The watch start revision was compacted away (etcd's compact_revision). */
    readonly compactRevision?: number,
  ) {
    super(message);
    this.name = "EtcdError";
  }
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, "base64").toString("utf8") : "");

/** The key just past every key with this prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]! += 1;
      return bytes.subarray(0, i + 1).toString("latin1");
    }
  }
  return "\0";
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
}

function kvOf(raw: RawKv): EtcdKv {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
  };
}

/** range_end for the gateway: base64 of the raw bytes (prefixEnd may produce non-UTF-8). */
function rangeEnd(end: string): string {
  return Buffer.from(end, "latin1").toString("base64");
}

export function createEtcdClient(options: EtcdClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const endpoints = options.endpoints.map((e) => e.replace(/\/$/, ""));
  let preferred = 0;

  /**
   * POSTs to the gateway, trying each member, starting from the last that answered; while a new
   * leader is elected (a member died) every member may refuse for a moment, so whole rounds are
   * tried again for up to `failoverMs`.
   */
  async function post(path: string, body: unknown, signal?: AbortSignal, tried = { failed: false }) {
    const deadline = Date.now() + (options.failoverMs ?? 5000);
    for (;;) {
      try {
        return await round(path, body, signal, tried);
      } catch (e) {
        if (signal?.aborted || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** `tried.failed`: a member answered 5xx, so the request may have been applied (a leader change). */
  async function round(
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    tried: { failed: boolean },
  ): Promise<Response> {
    const errors: string[] = [];
    const first = preferred; // other requests move `preferred` while this round runs
    for (let i = 0; i < endpoints.length; i++) {
      const at = (first + i) % endpoints.length;
      try {
        const res = await doFetch(`${endpoints[at]}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          signal: signal ?? AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        if (res.status >= 500) {
          tried.failed = true;
          errors.push(`${endpoints[at]}: ${res.status} ${await res.text()}`);
          continue;
        }
        preferred = at;
        return res;
      } catch (e) {
        if (signal?.aborted) throw e;
        errors.push(`${endpoints[at]}: ${(e as Error).message}`);
      }
    }
    throw new EtcdError(`no etcd member answered: ${errors.join("; ")}`);
  }

  async function call<T>(
    path: string,
    body: unknown,
  ): Promise<T & { header: { revision: string }; retried: boolean }> {
    const tried = { failed: false };
    const res = await post(path, body, undefined, tried);
    const text = await res.text();
    if (!res.ok) throw new EtcdError(`etcd ${path}: ${res.status} ${text}`);
    return { ...JSON.parse(text), retried: tried.failed };
  }

  const opJson = (op: EtcdOp) => {
    if ("put" in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value) } };
    if ("deleteRange" in op)
      return { request_delete_range: { key: b64(op.deleteRange.key), prev_kv: !!op.deleteRange.prevKv } };
    return { request_range: { key: b64(op.range.key) } };
  };
  const compareJson = (c: EtcdCompare) =>
    c.target === "CREATE"
      ? { key: b64(c.key), target: "CREATE", result: "EQUAL", create_revision: String(c.createRevision) }
      : { key: b64(c.key), target: "MOD", result: "EQUAL", mod_revision: String(c.modRevision) };

  return {
    /**
     * One key, or every key with a prefix (sorted by key), at the newest revision or at
     * `revision` (an EtcdError naming "compacted" when etcd no longer holds it).
     */
    async range(key: string, opts: { prefix?: boolean; limit?: number; revision?: number } = {}) {
      const r = await call<{ kvs?: RawKv[] }>("/v3/kv/range", {
        key: b64(key),
        ...(opts.prefix ? { range_end: rangeEnd(prefixEnd(key)) } : {}),
        ...(opts.limit ? { limit: String(opts.limit) } : {}),
        ...(opts.revision ? { revision: String(opts.revision) } : {}),
      });
      return { revision: Number(r.header.revision), kvs: (r.kvs ?? []).map(kvOf) };
    },

    /** If every compare holds, the success ops, else the failure ops; one revision for all. */
    async txn(compare: EtcdCompare[], success: EtcdOp[], failure: EtcdOp[] = []) {
      type OpResponse = {
        response_range?: { kvs?: RawKv[] };
        response_delete_range?: { prev_kvs?: RawKv[] };
      };
      const r = await call<{ succeeded?: boolean; responses?: OpResponse[] }>("/v3/kv/txn", {
        compare: compare.map(compareJson),
        success: success.map(opJson),
        failure: failure.map(opJson),
      });
      const responses = (r.responses ?? []).map((x) => ({
        kvs: (x.response_range?.kvs ?? []).map(kvOf),
        prevKvs: (x.response_delete_range?.prev_kvs ?? []).map(kvOf),
      }));
      /** `retried`: an earlier try failed at a member and may have been applied after all. */
      return { succeeded: !!r.succeeded, revision: Number(r.header.revision), responses, retried: r.retried };
    },

    /** Drops the history before `revision` (etcd keeps every revision until told). */
    async compact(revision: number) {
      await call("/v3/kv/compaction", { revision: String(revision), physical: false });
    },

    /**
     * Streams the events of every key with `prefix` (every key at all when `prefix` is "") from
     * `startRevision` (inclusive). Resolves once etcd has accepted the watch. `onEvents` gets each
     * response's events in revision order; `onEnd` is called once when the stream ends — with an
     * EtcdError carrying `compactRevision` when the start revision was compacted away.
     */
    async watch(
      prefix: string,
      startRevision: number,
      onEvents: (events: EtcdEvent[]) => void,
      onEnd: (error?: unknown) => void,
    ): Promise<() => void> {
      const abort = new AbortController();
      const all = prefix === "";
      const res = await post(
        "/v3/watch",
        {
          create_request: {
            key: all ? "AA==" : b64(prefix),
            range_end: all ? "AA==" : rangeEnd(prefixEnd(prefix)),
            start_revision: String(startRevision),
            prev_kv: true,
          },
        },
        abort.signal,
      );
      if (!res.ok || !res.body) throw new EtcdError(`etcd watch: ${res.status} ${await res.text()}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      const next = async (): Promise<Record<string, any> | undefined> => {
        for (;;) {
          const nl = buffer.indexOf("\n");
          if (nl >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            const parsed = JSON.parse(line);
            if (parsed.error)
              throw new EtcdError(`etcd watch: ${parsed.error.message ?? JSON.stringify(parsed.error)}`);
            return parsed.result ?? parsed;
          }
          const { value, done } = await reader.read();
          if (done) return undefined;
          buffer += value;
        }
      };
      const toEvents = (raw: { type?: string; kv?: RawKv; prev_kv?: RawKv }[]): EtcdEvent[] =>
        raw.map((e) => ({
          type: e.type === "DELETE" ? "DELETE" : "PUT",
          kv: kvOf(e.kv ?? {}),
          ...(e.prev_kv ? { prevKv: kvOf(e.prev_kv) } : {}),
        }));
      const first = await next();
      if (!first?.created) throw new EtcdError(`etcd watch: not created (${JSON.stringify(first)})`);
      void (async () => {
        try {
          for (let msg = await next(); msg; msg = await next()) {
            if (Number(msg.compact_revision ?? 0) > 0)
              throw new EtcdError(
                `etcd: revision ${startRevision} is compacted`,
                Number(msg.compact_revision),
              );
            if (msg.events) onEvents(toEvents(msg.events));
            if (msg.canceled) throw new EtcdError(`etcd watch canceled: ${msg.cancel_reason ?? ""}`);
          }
          onEnd(abort.signal.aborted ? undefined : new EtcdError("etcd watch: the stream ended"));
        } catch (e) {
          onEnd(abort.signal.aborted ? undefined : e);
        } finally {
          abort.abort();
        }
      })();
      return () => abort.abort();
    },
  };
}

export type EtcdClient = ReturnType<typeof createEtcdClient>;
