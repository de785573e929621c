import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import cliProgress from "cli-progress";
import { ApiError } from "../../core/errors.ts";
import type { ImageDetails, ImageSummary } from "../../core/seams/image-service.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { ndjson } from "../ndjson.ts";
import { formatColumns } from "../printer.ts";
import { UsageError } from "../usage-error.ts";

export async function imageList(opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const { items } = await api.get<{ items: ImageSummary[] }>("/minik/v1/images");
  const rows = items.map((i) => [i.name, i.id.replace(/^sha256:/, "").slice(0, 12), humanSize(i.size)]);
  console.log(formatColumns([["IMAGE", "ID", "SIZE"], ...rows]));
}

/** `minik image pull`: one progress bar per layer, fed by the server's ndjson progress stream. */
export async function imagePull(image: string, opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const res = await api.raw("POST", "/minik/v1/images/pull", {
    body: { image },
    accept: "application/x-ndjson",
  });
  const tty = process.stderr.isTTY;
  const bars = tty
    ? new cliProgress.MultiBar(
        { format: " {item} [{bar}] {percentage}% {value}/{total}", hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const byItem = new Map<string, cliProgress.SingleBar>();
  let result: ImageSummary | undefined;
  for await (const ev of ndjson<any>(res.body!)) {
    if (ev.type === "progress" && bars) {
      const label = String(ev.item)
        .replace(/^sha256:/, "")
        .slice(0, 12);
      const bar = byItem.get(label) ?? bars.create(ev.total || 1, 0, { item: label });
      byItem.set(label, bar);
      bar.setTotal(ev.total || 1);
      bar.update(ev.done, { item: label });
    } else if (ev.type === "error") {
      bars?.stop();
      throw new ApiError("BadRequest", ev.message);
    } else if (ev.type === "done") result = ev.image;
  }
  bars?.stop();
  if (result) console.log(`${result.name} pulled (${result.id})`);
}

export async function imageLoad(file: string, opts: GlobalOptions) {
  try {
    statSync(file);
  } catch {
    throw new UsageError(`the file "${file}" does not exist`);
  }
  const api = new ApiClient(opts);
  const body = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
  const res = await fetch(api.url("/minik/v1/images/load"), {
    method: "POST",
    headers: api.headers({ "Content-Type": "application/x-tar" }),
    body,
    // @ts-expect-error streaming request bodies need duplex in fetch
    duplex: "half",
  });
  const out = await res.json();
  if (!res.ok) throw new ApiError(out.reason ?? "BadRequest", out.message ?? res.statusText);
  for (const i of out.items as ImageSummary[]) console.log(`Loaded image: ${i.name}`);
}

export async function imageRemove(refs: string[], opts: GlobalOptions) {
  const api = new ApiClient(opts);
  for (const ref of refs) {
    await api.request("DELETE", `/minik/v1/images/${encodeURIComponent(ref)}`);
    console.log(`Untagged: ${ref}`);
  }
}

/** `minik image inspect`: the image's details as JSON, like `docker image inspect`. */
export async function imageInspect(refs: string[], opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const out: ImageDetails[] = [];
  for (const ref of refs)
    out.push(await api.get<ImageDetails>(`/minik/v1/images/${encodeURIComponent(ref)}`));
  console.log(JSON.stringify(out, null, 2));
}

/**
 * `minik image history`: the build steps newest first, as `docker history` prints them; a step
 * that made a layer shows that layer's unpacked size.
 */
export async function imageHistory(ref: string, opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const image = await api.get<ImageDetails>(`/minik/v1/images/${encodeURIComponent(ref)}`);
  console.log(formatColumns([["CREATED", "CREATED BY", "SIZE", "COMMENT"], ...historyRows(image)]));
}

export function historyRows(image: ImageDetails): string[][] {
  let layer = 0;
  const rows = image.history.map((h) => {
    const size = h.emptyLayer ? 0 : (image.layers[layer++]?.sizeBytes ?? 0);
    const by = (h.createdBy ?? "").replace(/\s+/g, " ");
    return [
      h.created ?? "<missing>",
      by.length > 60 ? `${by.slice(0, 57)}...` : by,
      humanSize(size),
      h.comment ?? "",
    ];
  });
  // Layers the history does not account for (hand-packed images): one row each.
  for (; layer < image.layers.length; layer++)
    rows.push(["<missing>", "", humanSize(image.layers[layer]!.sizeBytes), ""]);
  return rows.reverse();
}

function humanSize(n: number): string {
  if (n === 0) return "0B";
  if (n > 1e9) return `${(n / 1e9).toFixed(1)}GB`;
  if (n > 1e6) return `${(n / 1e6).toFixed(1)}MB`;
  return `${(n / 1e3).toFixed(1)}kB`;
}
