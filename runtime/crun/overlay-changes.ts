import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { RootfsChanges } from "../../core/seams/inspection.ts";

/** Paths listed at most per kind of change: a bound on the work, and on the answer's size. */
const MAX_PATHS = 500;

/**
 * What a container changed, read from its overlayfs upper dir the way `docker diff` reads it: a
 * character device 0/0 is a whiteout (the path was deleted from a lower layer); any other entry is
 * added when no lower layer has the path, modified when one does. Directories are listed only when
 * new: an existing directory in the upper dir just holds changes below it.
 */
export function overlayChanges(upper: string, lowerTopFirst: string[]): RootfsChanges {
  const changes: RootfsChanges = { added: [], modified: [], deleted: [] };
  const inLower = (rel: string) =>
    lowerTopFirst.some((l) => lstatSync(join(l, rel), { throwIfNoEntry: false }));
  const note = (list: string[], path: string) => {
    if (list.length < MAX_PATHS) list.push(path);
    else changes.truncated = true;
  };
  const stack = [""];
  while (stack.length) {
    const rel = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(join(upper, rel)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = `${rel}/${name}`;
      const st = lstatSync(join(upper, path), { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) note(changes.deleted, path);
      else if (st.isDirectory()) {
        if (!inLower(path)) note(changes.added, `${path}/`);
        stack.push(path);
      } else note(inLower(path) ? changes.modified : changes.added, path);
    }
  }
  for (const list of [changes.added, changes.modified, changes.deleted]) list.sort();
  return changes;
}
