/**
 * `bun:test` for Deno: the import map in deno.json points "bun:test" here so the core/ and web/
 * unit tests run unchanged under `deno test` (scripts/deno-test). Suites, hooks and the matchers
 * those tests use, registered as Deno.test cases named "suite > test".
 */

type Fn = () => unknown | Promise<unknown>;

interface DenoTestApi {
  test(t: {
    name: string;
    fn: () => Promise<void>;
    ignore?: boolean;
    only?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
    sanitizeExit?: boolean;
  }): void;
  inspect(value: unknown, options?: { depth?: number }): string;
}
/** Undefined when this file is imported by its own test under Bun. */
const Deno = (globalThis as unknown as { Deno?: DenoTestApi }).Deno;

interface Suite {
  name: string;
  parent?: Suite;
  beforeAll: Fn[];
  afterAll: Fn[];
  beforeEach: Fn[];
  afterEach: Fn[];
  /** Tests registered in this suite or below, and how many have run (afterAll after the last). */
  total: number;
  ran: number;
  started: boolean;
}

const newSuite = (name: string, parent?: Suite): Suite => ({
  name,
  parent,
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
  total: 0,
  ran: 0,
  started: false,
});

let current = newSuite("");

function chain(s: Suite): Suite[] {
  const out: Suite[] = [];
  for (let x: Suite | undefined = s; x; x = x.parent) out.unshift(x);
  return out;
}

export function describe(name: string, fn: () => void): void {
  const parent = current;
  current = newSuite(name, parent);
  try {
    fn();
  } finally {
    current = parent;
  }
}
describe.skip = (name: string, _fn: () => void) => register(name, async () => {}, { ignore: true });
describe.only = describe;
describe.if = (cond: boolean) => (cond ? describe : describe.skip);
describe.skipIf = (cond: boolean) => (cond ? describe.skip : describe);

function register(name: string, fn: Fn, flags: { ignore?: boolean; only?: boolean } = {}): void {
  const suites = chain(current);
  // An ignored test never runs, so it must not count: afterAll waits for the last test that runs.
  if (!flags.ignore) for (const s of suites) s.total++;
  const fullName = [...suites.map((s) => s.name).filter(Boolean), name].join(" > ");
  Deno!.test({
    name: fullName,
    ...flags,
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: async () => {
      try {
        for (const s of suites) {
          if (s.started) continue;
          s.started = true;
          for (const h of s.beforeAll) await h();
        }
        try {
          for (const s of suites) for (const h of s.beforeEach) await h();
          await fn();
        } finally {
          for (const s of [...suites].reverse()) for (const h of s.afterEach) await h();
        }
      } finally {
        for (const s of [...suites].reverse()) {
          s.ran++;
          if (s.ran === s.total) for (const h of s.afterAll) await h();
        }
      }
    },
  });
}

export function test(name: string, fn: Fn, _timeout?: number | { timeout?: number }): void {
  register(name, fn);
}
test.skip = (name: string, fn: Fn) => register(name, fn, { ignore: true });
test.todo = (name: string, fn: Fn = () => {}) => register(name, fn, { ignore: true });
test.only = (name: string, fn: Fn) => register(name, fn, { only: true });
test.if = (cond: boolean) => (cond ? test : test.skip);
test.skipIf = (cond: boolean) => (cond ? test.skip : test);
export const it = test;

export const beforeAll = (fn: Fn) => void current.beforeAll.push(fn);
export const afterAll = (fn: Fn) => void current.afterAll.push(fn);
export const beforeEach = (fn: Fn) => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn) => void current.afterEach.push(fn);
/** Deno has no per-test timeout; the suites' own deadlines stay in force. */
export function setDefaultTimeout(_ms: number): void {}

// ---- expect ----

/** An asymmetric matcher (expect.objectContaining …): equal to whatever `match` accepts. */
class Asymmetric {
  constructor(
    readonly describe: string,
    readonly match: (actual: unknown) => boolean,
  ) {}
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** Bun's toEqual: recursive, properties whose value is undefined count as missing. */
export function equals(a: unknown, b: unknown, strictUndefined = false): boolean {
  if (b instanceof Asymmetric) return b.match(a);
  if (a instanceof Asymmetric) return a.match(b);
  if (Object.is(a, b)) return true;
  if (!isObject(a) || !isObject(b)) return false;
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equals(v, b.get(k), strictUndefined)) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (![...b].some((w) => equals(v, w, strictUndefined))) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => equals(v, b[i], strictUndefined));
  }
  const keys = (o: Record<string, unknown>) =>
    Object.keys(o).filter((k) => strictUndefined || o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  return (
    ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equals(a[k], b[k], strictUndefined))
  );
}

/** toMatchObject: every property of `expected` matches, recursively; arrays item by item. */
function matchesObject(actual: unknown, expected: unknown): boolean {
  if (expected instanceof Asymmetric) return expected.match(actual);
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((v, i) => matchesObject(actual[i], v))
    );
  }
  if (isObject(expected) && !(expected instanceof Date) && !(expected instanceof RegExp)) {
    if (!isObject(actual)) return false;
    return Object.entries(expected).every(([k, v]) => k in actual && matchesObject(actual[k], v));
  }
  return equals(actual, expected);
}

function show(v: unknown): string {
  if (v instanceof Asymmetric) return v.describe;
  return Deno ? Deno.inspect(v, { depth: 8 }) : JSON.stringify(v);
}

class AssertionError extends Error {
  override name = "AssertionError";
}

function thrownMatches(error: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  const message = isObject(error) && typeof error.message === "string" ? error.message : String(error);
  if (typeof expected === "string") return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === "function") return error instanceof expected;
  if (isObject(expected) && "message" in expected) return message === expected.message;
  return equals(error, expected);
}

type Check = (actual: unknown, ...args: any[]) => [boolean, string];

const MATCHERS: Record<string, Check> = {
  toBe: (a, e) => [Object.is(a, e), `expected ${show(a)} to be ${show(e)}`],
  toEqual: (a, e) => [equals(a, e), `expected ${show(a)} to equal ${show(e)}`],
  toStrictEqual: (a, e) => [equals(a, e, true), `expected ${show(a)} to strictly equal ${show(e)}`],
  toMatchObject: (a, e) => [matchesObject(a, e), `expected ${show(a)} to match object ${show(e)}`],
  toContain: (a, e) => [
    typeof a === "string" ? a.includes(e) : [...((a as Iterable<unknown>) ?? [])].includes(e),
    `expected ${show(a)} to contain ${show(e)}`,
  ],
  toContainEqual: (a, e) => [
    [...((a as Iterable<unknown>) ?? [])].some((v) => equals(v, e)),
    `expected ${show(a)} to contain an item equal to ${show(e)}`,
  ],
  toHaveLength: (a, n) => [
    (a as { length?: number })?.length === n,
    `expected length ${n}, got ${(a as { length?: number })?.length}: ${show(a)}`,
  ],
  toBeUndefined: (a) => [a === undefined, `expected ${show(a)} to be undefined`],
  toBeDefined: (a) => [a !== undefined, `expected ${show(a)} to be defined`],
  toBeNull: (a) => [a === null, `expected ${show(a)} to be null`],
  toBeNaN: (a) => [Number.isNaN(a), `expected ${show(a)} to be NaN`],
  toBeTruthy: (a) => [!!a, `expected ${show(a)} to be truthy`],
  toBeFalsy: (a) => [!a, `expected ${show(a)} to be falsy`],
  toBeGreaterThan: (a, n) => [(a as number) > n, `expected ${show(a)} > ${n}`],
  toBeGreaterThanOrEqual: (a, n) => [(a as number) >= n, `expected ${show(a)} >= ${n}`],
  toBeLessThan: (a, n) => [(a as number) < n, `expected ${show(a)} < ${n}`],
  toBeLessThanOrEqual: (a, n) => [(a as number) <= n, `expected ${show(a)} <= ${n}`],
  toBeCloseTo: (a, n, digits = 2) => [
    Math.abs((a as number) - n) < 10 ** -digits / 2,
    `expected ${show(a)} to be close to ${n}`,
  ],
  toBeInstanceOf: (a, c) => [a instanceof c, `expected ${show(a)} to be an instance of ${c?.name}`],
  toMatch: (a, e) => [
    typeof a === "string" && (typeof e === "string" ? a.includes(e) : e.test(a)),
    `expected ${show(a)} to match ${show(e)}`,
  ],
  toStartWith: (a, e) => [
    typeof a === "string" && a.startsWith(e),
    `expected ${show(a)} to start with ${show(e)}`,
  ],
  toEndWith: (a, e) => [typeof a === "string" && a.endsWith(e), `expected ${show(a)} to end with ${show(e)}`],
  toThrow: (fn, e) => {
    if (typeof fn !== "function") return [false, "expected a function"];
    try {
      fn();
    } catch (error) {
      return [thrownMatches(error, e), `expected the error ${show(error)} to match ${show(e)}`];
    }
    return [false, `expected the function to throw${e === undefined ? "" : ` ${show(e)}`}`];
  },
};

type Matchers = { [K in keyof typeof MATCHERS]: (...args: any[]) => void } & {
  not: Matchers;
  resolves: AsyncMatchers;
  rejects: AsyncMatchers;
};
type AsyncMatchers = { [K in keyof typeof MATCHERS]: (...args: any[]) => Promise<void> } & {
  not: AsyncMatchers;
};

function matchers(actual: unknown, negate: boolean): Matchers {
  const out: Record<string, unknown> = {};
  for (const [name, check] of Object.entries(MATCHERS)) {
    out[name] = (...args: unknown[]) => {
      const [pass, message] = check(actual, ...args);
      if (pass === negate) throw new AssertionError(negate ? `not: ${message}` : message);
    };
  }
  return out as Matchers;
}

function asyncMatchers(promise: unknown, mode: "resolves" | "rejects", negate: boolean): AsyncMatchers {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(MATCHERS)) {
    out[name] = async (...args: unknown[]) => {
      let settled: unknown;
      try {
        settled = await promise;
        if (mode === "rejects") throw new AssertionError(`expected a rejection, got ${show(settled)}`);
      } catch (error) {
        if (error instanceof AssertionError) throw error;
        if (mode === "resolves") throw new AssertionError(`expected a resolution, got ${show(error)}`);
        settled = error;
      }
      // rejects.toThrow(x) checks the rejection itself
      const subject =
        mode === "rejects" && name === "toThrow"
          ? () => {
              throw settled;
            }
          : settled;
      (matchers(subject, negate) as unknown as Record<string, (...a: unknown[]) => void>)[name]!(...args);
    };
  }
  return out as AsyncMatchers;
}

export function expect(actual: unknown): Matchers {
  const m = matchers(actual, false);
  const rejects = asyncMatchers(actual, "rejects", false);
  const resolves = asyncMatchers(actual, "resolves", false);
  rejects.not = asyncMatchers(actual, "rejects", true);
  resolves.not = asyncMatchers(actual, "resolves", true);
  return Object.assign(m, { not: matchers(actual, true), rejects, resolves });
}

expect.objectContaining = (e: Record<string, unknown>) =>
  new Asymmetric(`ObjectContaining ${show(e)}`, (a) => matchesObject(a, e));
expect.arrayContaining = (e: unknown[]) =>
  new Asymmetric(
    `ArrayContaining ${show(e)}`,
    (a) => Array.isArray(a) && e.every((v) => a.some((w) => equals(w, v))),
  );
expect.stringMatching = (e: string | RegExp) =>
  new Asymmetric(
    `StringMatching ${String(e)}`,
    (a) => typeof a === "string" && (typeof e === "string" ? a.includes(e) : e.test(a)),
  );
expect.stringContaining = (e: string) =>
  new Asymmetric(`StringContaining ${e}`, (a) => typeof a === "string" && a.includes(e));
expect.any = (c: { name?: string }) =>
  new Asymmetric(`Any<${c.name}>`, (a) =>
    c === String
      ? typeof a === "string"
      : c === Number
        ? typeof a === "number"
        : c === Boolean
          ? typeof a === "boolean"
          : a instanceof (c as never),
  );
expect.anything = () => new Asymmetric("Anything", (a) => a !== undefined && a !== null);
