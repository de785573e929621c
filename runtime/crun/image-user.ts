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

function lookup(table: string | undefined, name: string, field: number): number | undefined {
  for (const line of (table ?? "").split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return Number(f[field]);
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
  const passwd = /^\d+$/.test(u) && (!g || /^\d+$/.test(g)) ? undefined : readFromLayers(top, "etc/passwd");
  const uid = /^\d+$/.test(u) ? Number(u) : lookup(passwd, u, 2);
  if (uid === undefined)
    throw new Error(`image user "${u}" is not in the image's /etc/passwd; set runAsUser`);
  let gid: number | undefined;
  if (g) gid = /^\d+$/.test(g) ? Number(g) : lookup(readFromLayers(top, "etc/group"), g, 2);
  else gid = /^\d+$/.test(u) ? 0 : lookup(passwd, u, 3);
  if (gid === undefined)
    throw new Error(`image group "${g}" is not in the image's /etc/group; set runAsGroup`);
  return { uid, gid };
}
