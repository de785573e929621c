import { ApiError } from "../../core/errors.ts";
import { findByAlias, RESOURCES, type ResourceInfo } from "../../core/resources.ts";
import type { Discovery } from "../discovery.ts";
import { UsageError } from "../usage-error.ts";

/**
 * Resolves `deploy,svc` or `all` into resource infos, failing like kubectl for unknown names;
 * with `discovery`, names of custom resources the server serves too.
 */
export async function resolveKinds(spec: string, discovery?: Discovery): Promise<ResourceInfo[]> {
  const out: ResourceInfo[] = [];
  for (const part of spec.split(",").filter(Boolean)) {
    if (part === "all") {
      // kubectl's order for `get all`
      for (const plural of [
        "pods",
        "services",
        "deployments",
        "replicasets",
        "horizontalpodautoscalers",
        "cronjobs",
        "jobs",
      ]) {
        const info = RESOURCES.find((r) => r.plural === plural && r.categories.includes("all"));
        if (info) out.push(info);
      }
      if (discovery) out.push(...(await discovery.inCategory("all")));
      continue;
    }
    const info = findByAlias(part) ?? (await discovery?.byAlias(part));
    if (!info) throw new ApiError("NotFound", `the server doesn't have a resource type "${part}"`);
    out.push(info);
  }
  return out;
}

/** Splits `deployment/nginx` or (`deployment`, `nginx`) into a kind and names. */
export async function resolveTargets(
  args: string[],
  discovery?: Discovery,
): Promise<{ info: ResourceInfo; name: string }[]> {
  if (args.length === 0) throw new UsageError("you must specify the type of resource and a name");
  if (args[0]!.includes("/")) {
    const out: { info: ResourceInfo; name: string }[] = [];
    for (const a of args) {
      const [kind, name] = a.split("/");
      if (!kind || !name)
        throw new UsageError(`arguments in resource/name form must have a single resource and name: "${a}"`);
      out.push({ info: (await resolveKinds(kind, discovery))[0]!, name });
    }
    return out;
  }
  const [kind, ...names] = args;
  const info = (await resolveKinds(kind!, discovery))[0]!;
  if (names.length === 0) throw new UsageError(`you must specify the name of the ${info.singular}`);
  return names.map((name) => ({ info, name }));
}
