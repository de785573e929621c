import { describe, expect, test } from "bun:test";
import { mostRecentScheduleTime, parseCronSchedule, parseGoDuration } from "./cron-schedule.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe("parseCronSchedule", () => {
  test("five fields, macros and @every, in UTC or a time zone", () => {
    const from = at("2026-03-07T10:17:30Z"); // a Saturday
    const next = (s: string, tz?: string) => iso(parseCronSchedule(s, tz).next(from));
    expect(next("*/15 * * * *")).toBe("2026-03-07T10:30:00.000Z");
    expect(next("0 3 * * *")).toBe("2026-03-08T03:00:00.000Z");
    expect(next("@hourly")).toBe("2026-03-07T11:00:00.000Z");
    expect(next("@daily")).toBe("2026-03-08T00:00:00.000Z");
    expect(next("@weekly")).toBe("2026-03-08T00:00:00.000Z");
    expect(next("@monthly")).toBe("2026-04-01T00:00:00.000Z");
    expect(next("@yearly")).toBe("2027-01-01T00:00:00.000Z");
    expect(next("@every 90s")).toBe("2026-03-07T10:19:00.000Z");
    expect(next("0 3 * * *", "Europe/Berlin")).toBe("2026-03-08T02:00:00.000Z");
    expect(next("30 9 * * MON-FRI")).toBe("2026-03-09T09:30:00.000Z");
    // A restricted day of month and day of week match either, as in cron.
    expect(next("0 0 13 * FRI")).toBe("2026-03-13T00:00:00.000Z");
  });

  test("bad schedules say what is wrong", () => {
    const error = (s: string, tz?: string) => {
      try {
        parseCronSchedule(s, tz);
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(error("* * * *")).toBe("expected exactly 5 fields, found 4: * * * *");
    expect(error("0 0 * * * *")).toBe("expected exactly 5 fields, found 6: 0 0 * * * *");
    expect(error("@fortnightly")).toBe("unrecognized descriptor: @fortnightly");
    expect(error("CRON_TZ=UTC 0 * * * *")).toBe(
      "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
    );
    expect(error("99 * * * *")).toContain("minute");
    expect(error("* * * * *", "Nowhere/Land")).toBe("unknown time zone Nowhere/Land");
    expect(error("@every 0s")).toBe("failed to parse duration @every 0s");
  });
});

describe("mostRecentScheduleTime", () => {
  const every5 = parseCronSchedule("*/5 * * * *");
  test("the latest time in (earliest, now] and how many were missed", () => {
    const r = mostRecentScheduleTime(every5, at("2026-03-07T10:00:00Z"), at("2026-03-07T10:17:00Z"));
    expect(iso(r.time)).toBe("2026-03-07T10:15:00.000Z");
    expect(r.missed).toBe(3);
    expect(mostRecentScheduleTime(every5, at("2026-03-07T10:15:00Z"), at("2026-03-07T10:17:00Z")).time).toBe(
      undefined,
    );
  });

  test("after a long outage, counting stops but the latest time is still found", () => {
    const r = mostRecentScheduleTime(every5, at("2026-01-01T00:00:00Z"), at("2026-03-07T10:17:00Z"));
    expect(iso(r.time)).toBe("2026-03-07T10:15:00.000Z");
    expect(r.missed).toBe(101);
    const daily = parseCronSchedule("0 4 * * *");
    const d = mostRecentScheduleTime(daily, at("2025-01-01T00:00:00Z"), at("2026-03-07T10:17:00Z"));
    expect(iso(d.time)).toBe("2026-03-07T04:00:00.000Z");
  });
});

test("parseGoDuration reads Go durations", () => {
  expect(parseGoDuration("1h30m")).toBe(5_400_000);
  expect(parseGoDuration("250ms")).toBe(250);
  expect(parseGoDuration("1.5s")).toBe(1500);
  expect(parseGoDuration("5x")).toBeUndefined();
  expect(parseGoDuration("")).toBeUndefined();
});
