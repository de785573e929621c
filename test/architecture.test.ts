import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The import rules of ARCHITECTURE.md, checked on every run: a change that breaks one fails here
 * with the offending file and import named.
 */

const root = resolve(import.meta.dir, "..");

/** Every .ts file under a top-level folder, as a repo-relative path. */
function sources(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(path);
      } else if (entry.name.endsWith(".ts")) out.push(path);
    }
  };
  walk(folder);
  return out;
}

const isTestCode = (file: string) =>
  file.endsWith(".test.ts") ||
  file.includes("/testing/") ||
  file.startsWith("test/") ||
  file.includes(".bench.");

const specifiers =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** What a file imports: relative imports resolved to repo paths, packages by name. */
function importsOf(file: string): { path?: string; spec: string }[] {
  const text = readFileSync(join(root, file), "utf8");
  const out: { path?: string; spec: string }[] = [];
  for (const m of text.matchAll(specifiers)) {
    const spec = m[1] ?? m[2] ?? "";
    out.push(
      spec.startsWith(".") ? { spec, path: relative(root, resolve(root, dirname(file), spec)) } : { spec },
    );
  }
  return out;
}

const production = ["cmd", "core", "runtime", "web"].flatMap(sources).filter((f) => !isTestCode(f));

/** The leaf model/config files of core/ that the node side may use besides core/seams/. */
const RUNTIME_MAY_USE = new Set([
  "core/config.ts",
  "core/object.ts",
  "core/errors.ts",
  "core/resources.ts",
  "core/quantity.ts",
  "core/network/cidr.ts",
]);

function violations(files: string[], bad: (imp: { path?: string; spec: string }) => boolean): string[] {
  return files.flatMap((f) =>
    importsOf(f)
      .filter(bad)
      .map((imp) => `${f} imports ${imp.spec}`),
  );
}

describe("import rules (ARCHITECTURE.md)", () => {
  test("the scan sees the tree", () => {
    expect(production.length).toBeGreaterThan(100);
    expect(importsOf("cmd/up.ts").some((i) => i.path === "core/api/app.ts")).toBe(true);
  });

  test("core/ imports nothing of runtime/ or cmd/", () => {
    const core = production.filter((f) => f.startsWith("core/"));
    expect(violations(core, (i) => /^(runtime|cmd)\//.test(i.path ?? ""))).toEqual([]);
  });

  test("runtime/ imports of core/ are the seams and plain model files only", () => {
    const runtime = production.filter((f) => f.startsWith("runtime/"));
    const bad = (i: { path?: string }) =>
      !!i.path?.startsWith("core/") && !i.path.startsWith("core/seams/") && !RUNTIME_MAY_USE.has(i.path);
    expect(violations(runtime, bad)).toEqual([]);
    expect(violations(runtime, (i) => /^(cmd|web)\//.test(i.path ?? ""))).toEqual([]);
  });

  test("runtime/ knows no HTTP code", () => {
    const runtime = production.filter((f) => f.startsWith("runtime/"));
    expect(violations(runtime, (i) => i.spec === "hono" || i.spec.startsWith("hono/"))).toEqual([]);
    expect(violations(runtime, (i) => !!i.path?.startsWith("core/api/"))).toEqual([]);
  });

  test("core/seams/ depends on nothing but other seams and plain model files", () => {
    const seams = production.filter((f) => f.startsWith("core/seams/"));
    const bad = (i: { path?: string }) =>
      !!i.path && !i.path.startsWith("core/seams/") && !RUNTIME_MAY_USE.has(i.path);
    expect(violations(seams, bad)).toEqual([]);
  });

  test("core/ and web/ call no Bun-only API and spawn no process (Deno runs them from source)", () => {
    const portable = production.filter((f) => f.startsWith("core/") || f.startsWith("web/"));
    const hits = portable.filter((f) =>
      /\bBun\.|from ["']bun["']|node:child_process/.test(readFileSync(join(root, f), "utf8")),
    );
    expect(hits).toEqual([]);
  });

  test("cmd/ calls Bun and Deno only through cmd/platform/ (the CLI runs under both)", () => {
    const cli = production.filter((f) => f.startsWith("cmd/") && !f.startsWith("cmd/platform/"));
    const hits = cli.filter((f) =>
      /\bBun\.|\bDeno\.|from ["']bun["']|import\(["']bun["']\)/.test(readFileSync(join(root, f), "utf8")),
    );
    expect(hits).toEqual([]);
  });

  test("production code imports no test double, fixture or suite", () => {
    expect(
      violations(production, (i) => !!i.path && (isTestCode(i.path) || i.path.includes("/testing/"))),
    ).toEqual([]);
  });

  test("no import cycle between files", () => {
    const graph = new Map(
      production.map((f) => [f, importsOf(f).flatMap((i) => (i.path?.endsWith(".ts") ? [i.path] : []))]),
    );
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
