import { readFileSync } from "node:fs";
import { parseImageUser } from "../oci/process.ts";

/**
 * Resolves an image's `User` ("nobody", "1000:staff", …) to numeric ids using the image's own
 * /etc/passwd and /etc/group (the topmost layer holding the file wins). Numeric parts need no
 * lookup; an unknown name is an error the user must fix in the image or with runAsUser.
 */
function readFromLayers(layersTopFirst: string[], file: string): string | undefined {
  for (const dir of layersTopFirst) {
    try {
      return readFileSync(`${dir}/${file}`, "utf8");
    } catch {}
  }
  return undefined;
}

/** The numeric `field` of the first line whose `keyField` equals `key`. */
function lookup(table: string | undefined, key: string, keyField: number, field: number): number | undefined {
  for (const line of (table ?? "").split("\n")) {
    const f = line.split(":");
    if (f[keyField] === key && f[field] !== undefined) return Number(f[field]);
  }
  return undefined;
}

export function resolveImageUser(
  user: string | undefined,
  layersBottomToTop: string[],
): { uid: number; gid: number } {
  const { user: u, group: g } = parseImageUser(user);
  if (!u) return { uid: 0, gid: 0 };
  const top = [...layersBottomToTop].reverse();
  const numeric = (x: string) => /^\d+$/.test(x);
  const passwd = numeric(u) && g ? undefined : readFromLayers(top, "etc/passwd");
  const uid = numeric(u) ? Number(u) : lookup(passwd, u, 0, 2);
  if (uid === undefined)
    throw new Error(`image user "${u}" is not in the image's /etc/passwd; set runAsUser`);
  let gid: number | undefined;
  if (g) gid = numeric(g) ? Number(g) : lookup(readFromLayers(top, "etc/group"), g, 0, 2);
  // No group given: the user's primary group from /etc/passwd (by name or uid), as Docker does.
  else gid = lookup(passwd, u, numeric(u) ? 2 : 0, 3) ?? 0;
  if (gid === undefined)
    throw new Error(`image group "${g}" is not in the image's /etc/group; set runAsGroup`);
  return { uid, gid };
}
