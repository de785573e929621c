/**
 * The deprecated watch paths kube-apiserver still serves (`/api/v1/watch/pods`,
 * `/apis/apps/v1/watch/namespaces/default/deployments/web`): the same request as the resource
 * path with `watch=true`. Returns the resource path, or undefined for any other path.
 */
export function legacyWatchPath(pathname: string): string | undefined {
  const m = /^(\/api\/[^/]+|\/apis\/[^/]+\/[^/]+)\/watch(\/.+)$/.exec(pathname);
  return m ? `${m[1]}${m[2]}` : undefined;
}
