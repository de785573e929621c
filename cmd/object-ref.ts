import type { ResourceInfo } from "../core/resources.ts";

/** `deployment.apps`: how kubectl names a kind in `-o name` output and in messages. */
export function kindPrefix(info: ResourceInfo): string {
  return info.group ? `${info.singular}.${info.group}` : info.singular;
}

/** `deployment.apps/nginx` — kubectl's `-o name` and apply output form. */
export function objectRef(info: ResourceInfo, name: string): string {
  return `${kindPrefix(info)}/${name}`;
}
