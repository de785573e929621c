import { ApiError, isApiError } from "../../core/errors.ts";
import type { KubeObject } from "../../core/object.ts";
import type { ResourceInfo } from "../../core/resources.ts";
import { ApiClient, resourcePath } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { createDiscovery } from "../discovery.ts";
import { readManifests } from "../manifest.ts";
import { objectRef } from "../object-ref.ts";
import { platform } from "../platform/index.ts";
import { resolveKinds, resolveTargets } from "./kinds.ts";

export interface DeleteCmdOptions extends GlobalOptions {
  filename?: string | string[];
  gracePeriod?: number;
  wait?: boolean;
  ignoreNotFound?: boolean;
  cascade?: string;
  all?: boolean;
  selector?: string;
}

/** `minik delete -f FILE` or `minik delete KIND NAME…`; waits until the objects are gone by default, like kubectl. */
export async function del(args: string[], opts: DeleteCmdOptions): Promise<void> {
  const api = new ApiClient(opts);
  const discovery = createDiscovery(api);
  const targets: { info: ResourceInfo; namespace?: string; name: string }[] = [];
  const files = opts.filename === undefined ? [] : ([] as string[]).concat(opts.filename);
  for (const f of files) {
    for (const m of await readManifests(f)) {
      const info = await discovery.byKind(m.object.apiVersion, m.object.kind);
      if (!info)
        throw new ApiError(
          "BadRequest",
          `no matches for kind "${m.object.kind}" in version "${m.object.apiVersion}"`,
        );
      targets.push({
        info,
        namespace: m.object.metadata.namespace ?? opts.namespace ?? "default",
        name: m.object.metadata.name!,
      });
    }
  }
  if (!files.length && (opts.all || opts.selector)) {
    // `minik delete pods --all` / `-l app=x`: every matching object of the kinds named
    const namespace = opts.namespace ?? "default";
    for (const info of await resolveKinds(args[0] ?? "", discovery)) {
      const list = await api.get<{ items: KubeObject[] }>(resourcePath(info, namespace), {
        query: { labelSelector: opts.selector },
      });
      for (const o of list.items) targets.push({ info, namespace, name: o.metadata.name! });
    }
    if (!targets.length) console.error(`No resources found in ${namespace} namespace.`);
  } else if (!files.length) {
    for (const t of await resolveTargets(args, discovery))
      targets.push({ ...t, namespace: opts.namespace ?? "default" });
  }
  const propagationPolicy =
    opts.cascade === "orphan" ? "Orphan" : opts.cascade === "foreground" ? "Foreground" : "Background";
  const deleted: ((typeof targets)[number] & { uid?: string })[] = [];
  let failed: unknown;
  for (const t of targets) {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy,
      ...(opts.gracePeriod !== undefined && opts.gracePeriod >= 0
        ? { gracePeriodSeconds: Number(opts.gracePeriod) }
        : {}),
    };
    try {
      // the object (still terminating) or a Status whose details name the uid (already gone)
      const gone = await api.request<KubeObject & { details?: { uid?: string } }>(
        "DELETE",
        resourcePath(t.info, t.namespace, t.name),
        { body },
      );
      console.log(`${objectRef(t.info, t.name)} deleted`);
      deleted.push({ ...t, uid: gone.metadata?.uid ?? gone.details?.uid });
    } catch (e) {
      if (isApiError(e, "NotFound") && opts.ignoreNotFound) continue;
      if (isApiError(e, "NotFound")) {
        console.error(`Error from server (NotFound): ${e.message}`);
        failed = e;
        continue;
      }
      throw e;
    }
  }
  if (opts.wait !== false) {
    for (const t of deleted) await waitGone(api, t.info, t.namespace, t.name, t.uid);
  }
  if (failed) process.exitCode = 1;
}

/** Until the object is gone — or replaced by a new one of the same name (a StatefulSet's pod), as kubectl waits on the uid. */
async function waitGone(
  api: ApiClient,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  uid: string | undefined,
) {
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    try {
      const now = await api.get(resourcePath(info, namespace, name));
      if (uid && now.metadata?.uid !== uid) return;
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw e;
    }
    await platform.sleep(100);
  }
  throw new ApiError("Timeout", `timed out waiting for ${objectRef(info, name)} to be deleted`);
}
