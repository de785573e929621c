import type { KubeObject } from "../../core/object.ts";
import type { ResourceInfo } from "../../core/resources.ts";
import { ApiClient, resourcePath, TABLE_ACCEPT } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { createDiscovery } from "../discovery.ts";
import { ndjson } from "../ndjson.ts";
import { kindPrefix, objectRef } from "../object-ref.ts";
import { columnWidths, formatColumns, printObjects, type Table, tableRows } from "../printer.ts";
import { resolveKinds } from "./kinds.ts";

export interface GetOptions extends GlobalOptions {
  allNamespaces?: boolean;
  output?: string;
  watch?: boolean;
  selector?: string;
  showLabels?: boolean;
}

export async function get(kinds: string, names: string[], opts: GetOptions): Promise<void> {
  const api = new ApiClient(opts);
  const infos = await resolveKinds(kinds, createDiscovery(api));
  const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? "default");
  const output = opts.output ?? "";
  const query = { labelSelector: opts.selector };

  if (output === "yaml" || output === "json" || output === "name") {
    const objects: { info: ResourceInfo; obj: KubeObject }[] = [];
    for (const info of infos) {
      if (names.length) {
        for (const n of names) objects.push({ info, obj: await api.get(resourcePath(info, namespace, n)) });
      } else {
        const list = await api.get<{ items: KubeObject[] }>(resourcePath(info, namespace), { query });
        for (const obj of list.items) objects.push({ info, obj: withKind(obj, info) });
      }
    }
    if (output === "name") for (const o of objects) console.log(objectRef(o.info, o.obj.metadata.name!));
    else
      console.log(
        printObjects(
          objects.map((o) => o.obj),
          output,
          names.length !== 1 || infos.length > 1,
        ),
      );
    return;
  }
  if (output && output !== "wide")
    throw new Error(
      `unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,wide,yaml`,
    );

  let printedAny = false;
  for (const info of infos) {
    const tables: Table[] = [];
    if (names.length) {
      for (const n of names)
        tables.push(await api.get<Table>(resourcePath(info, namespace, n), { accept: TABLE_ACCEPT }));
    } else {
      tables.push(await api.get<Table>(resourcePath(info, namespace), { accept: TABLE_ACCEPT, query }));
    }
    const table: Table = { ...tables[0]!, rows: tables.flatMap((t) => t.rows) };
    if (table.rows.length === 0 && infos.length > 1) continue;
    const style = {
      wide: output === "wide",
      withNamespace: opts.allNamespaces && info.namespaced,
      kindPrefix: infos.length > 1 ? kindPrefix(info) : undefined,
      showLabels: opts.showLabels,
    };
    if (table.rows.length > 0) {
      if (printedAny) console.log();
      console.log(formatColumns(tableRows(table, style)));
      printedAny = true;
    }
    if (opts.watch) await watchTable(api, info, namespace, table, style, names[0], query.labelSelector);
  }
  if (!printedAny && !opts.watch) {
    console.error(namespace ? `No resources found in ${namespace} namespace.` : "No resources found");
  }
}

function withKind(obj: KubeObject, info: ResourceInfo): KubeObject {
  // list items may leave apiVersion/kind out; -o yaml shows them like kubectl
  return {
    ...obj,
    apiVersion: obj.apiVersion ?? (info.group ? `${info.group}/${info.version}` : info.version),
    kind: obj.kind ?? info.kind,
  };
}

/** Streams table rows for changes after the listed resourceVersion, like `kubectl get -w`. */
async function watchTable(
  api: ApiClient,
  info: ResourceInfo,
  namespace: string | undefined,
  first: Table,
  style: Parameters<typeof tableRows>[1],
  name: string | undefined,
  labelSelector: string | undefined,
): Promise<void> {
  const widths = columnWidths(tableRows(first, style));
  const res = await api.raw("GET", resourcePath(info, namespace), {
    accept: TABLE_ACCEPT,
    query: {
      watch: 1,
      resourceVersion: first.metadata?.resourceVersion,
      fieldSelector: name ? `metadata.name=${name}` : undefined,
      labelSelector,
    },
  });
  let columns = first.columnDefinitions;
  type Event = { type: string; object: Table & { kind: string; message?: string } };
  for await (const event of ndjson<Event>(res.body!)) {
    if (event.type === "ERROR") throw new Error(event.object.message ?? "watch failed");
    if (event.object.kind !== "Table") continue;
    if (event.object.columnDefinitions?.length) columns = event.object.columnDefinitions;
    const rows = tableRows({ ...event.object, columnDefinitions: columns }, { ...style, noHeaders: true });
    console.log(formatColumns(rows, widths));
  }
}
