import { readFileSync, writeFileSync } from "node:fs";

/** Per-interface IPv4 sysctls; they vanish with the interface, so deleting the bridge resets them. */
export function setInterfaceSysctl(iface: string, key: string, value: string): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${iface}/${key}`, value);
}

export function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path.replaceAll(".", "/")}`, "utf8").trim();
  } catch {
    return undefined;
  }
}
