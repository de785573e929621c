import { apiVersionOf, findByPlural, type ResourceInfo } from "../resources.ts";

/** The REST path of a resource collection or object, as kube-apiserver lays them out. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string, sub?: string): string {
  const base = info.group ? `/apis/${apiVersionOf(info)}` : `/api/${info.version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const obj = name ? `/${encodeURIComponent(name)}` : "";
  return `${base}${ns}/${info.plural}${obj}${sub ? `/${sub}` : ""}`;
}

/** The built-in resource of a store key (`pods`, `deployments.apps`); custom kinds are not known here. */
export function resourceOfKey(key: string): ResourceInfo {
  const dot = key.indexOf(".");
  const info = dot < 0 ? findByPlural("", key) : findByPlural(key.slice(dot + 1), key.slice(0, dot));
  if (!info) throw new Error(`unknown resource "${key}"`);
  return info;
}
