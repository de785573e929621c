import { describe, expect, test } from "bun:test";
import { cpuMillis, formatCpuMillis, formatKi, parseQuantity, quantityValue } from "./quantity.ts";

describe("quantities", () => {
  test("decimal, binary and exponent suffixes", () => {
    expect(parseQuantity("500m")).toBeCloseTo(0.5);
    expect(parseQuantity("1.5")).toBe(1.5);
    expect(parseQuantity("128Mi")).toBe(128 * 2 ** 20);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity("lots")).toBeNaN();
  });

  test("CPU in millicores rounds up; bytes round up", () => {
    expect(cpuMillis("250m")).toBe(250);
    expect(cpuMillis("0.1")).toBe(100);
    expect(cpuMillis("1")).toBe(1000);
    expect(cpuMillis("100u")).toBe(1);
    expect(cpuMillis(undefined)).toBe(0);
    expect(quantityValue("1.5Ki")).toBe(1536);
  });

  test("formats as Kubernetes prints them", () => {
    expect(formatCpuMillis(250)).toBe("250m");
    expect(formatCpuMillis(2000)).toBe("2");
    expect(formatKi(16 * 2 ** 30)).toBe("16777216Ki");
  });
});
