import { Cron } from "croner";

/**
 * A CronJob's `schedule` in its `timeZone`, as Kubernetes reads it (robfig/cron's standard
 * parser): five fields — minute, hour, day of month, month, day of week, where a restricted day
 * of month and day of week match either — or one of the macros. Parsing is strict so a bad
 * schedule is refused at the API instead of never firing.
 */
export interface CronSchedule {
  /** The first schedule time strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** Parses a schedule; throws an Error whose message says what is wrong. */
export function parseCronSchedule(schedule: string, timeZone?: string): CronSchedule {
  const text = schedule.trim();
  if (/^(CRON_)?TZ=/.test(text)) {
    throw new Error("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
  const every = /^@every\s+(.+)$/.exec(text);
  if (every) {
    const ms = parseGoDuration(every[1]!);
    if (ms === undefined || ms <= 0) throw new Error(`failed to parse duration @every ${every[1]}`);
    // robfig rounds @every below a second up to one second, and fires `ms` after each run.
    const period = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { next: (after) => Math.floor(after / 1000) * 1000 + period };
  }
  const pattern = text.startsWith("@") ? MACROS[text.toLowerCase()] : text;
  if (!pattern) throw new Error(`unrecognized descriptor: ${text}`);
  const fields = pattern.split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${text}`);
  if (timeZone !== undefined) checkTimeZone(timeZone);
  let cron: Cron;
  try {
    cron = new Cron(pattern, { mode: "5-part", paused: true, ...(timeZone ? { timezone: timeZone } : {}) });
  } catch (e) {
    throw new Error((e as Error).message.replace(/^CronPattern: /, ""));
  }
  return {
    next(after) {
      const d = cron.nextRun(new Date(after));
      return d ? d.getTime() : undefined;
    },
  };
}

/** Throws unless `zone` is an IANA time zone name the runtime knows (`Local` is refused). */
export function checkTimeZone(zone: string): void {
  if (zone === "" || zone === "Local") throw new Error(`unknown time zone ${zone}`);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    throw new Error(`unknown time zone ${zone}`);
  }
}

/**
 * The latest schedule time in (`earliestMs`, `nowMs`], and how many there were. Counting stops
 * at `cap` (Kubernetes warns about more than 100 missed starts and runs only the latest).
 */
export function mostRecentScheduleTime(
  schedule: CronSchedule,
  earliestMs: number,
  nowMs: number,
  cap = 101,
): { time?: number; missed: number } {
  let time: number | undefined;
  let missed = 0;
  for (let t = schedule.next(earliestMs); t !== undefined && t <= nowMs; t = schedule.next(t)) {
    time = t;
    missed++;
    if (missed >= cap) {
      time = latestBefore(schedule, nowMs) ?? time;
      break;
    }
  }
  return { time, missed };
}

/** Too many to walk from the start: look back from now in growing windows (hour, day, …). */
function latestBefore(schedule: CronSchedule, nowMs: number): number | undefined {
  for (const hours of [1, 24, 24 * 32, 24 * 367, 24 * 366 * 8]) {
    let latest: number | undefined;
    for (
      let u = schedule.next(nowMs - hours * 3_600_000);
      u !== undefined && u <= nowMs;
      u = schedule.next(u)
    )
      latest = u;
    if (latest !== undefined) return latest;
  }
  return undefined;
}

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration (`1h30m`, `90s`), in milliseconds; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  return at > 0 ? total : undefined;
}
