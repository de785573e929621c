/**
 * How Kubernetes combines an image's config with a container spec: `command` replaces ENTRYPOINT,
 * `args` replaces CMD (and `command` alone drops CMD), pod env overrides image env by name, PATH
 * comes from the image (or the usual default), and the working directory falls back to the image's.
 */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function containerArgv(image: ImageConfig, command?: string[], args?: string[]): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  const entrypoint = image.Entrypoint ?? [];
  return [...entrypoint, ...(args && args.length > 0 ? args : (image.Cmd ?? []))];
}

export function containerEnv(
  image: ImageConfig,
  podEnv: { name: string; value: string }[],
  extra: Record<string, string> = {},
): string[] {
  const merged = new Map<string, string>();
  for (const kv of image.Env ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) merged.set(kv.slice(0, i), kv.slice(i + 1));
  }
  if (!merged.has("PATH")) merged.set("PATH", DEFAULT_PATH);
  for (const [k, v] of Object.entries(extra)) merged.set(k, v);
  for (const { name, value } of podEnv) merged.set(name, value);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/**
 * Splits an image `User` ("1000", "1000:1000", "nobody", "app:staff") into what must still be
 * looked up in the image's /etc/passwd and /etc/group (names), and what is numeric already.
 */
export function parseImageUser(user: string | undefined): { user?: string; group?: string } {
  if (!user) return {};
  const [u, g] = user.split(":");
  return { user: u || undefined, group: g || undefined };
}
