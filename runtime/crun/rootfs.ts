import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { mount, umount } from "../supervise/libc.ts";

/**
 * A container's root filesystem: one overlayfs whose lowerdirs are the pod's init layer (on top:
 * /etc/hosts, /etc/hostname, /etc/resolv.conf, generated per pod and never part of the image)
 * and the image layers, with a per-container upper and work dir. Mounted with mount(2) through
 * bun:ffi (~0.1 ms; /bin/mount costs ~2 ms). overlayfs' leftmost lowerdir is the TOP layer.
 */
export interface RootfsLayout {
  /** Image layer dirs, bottom → top (as the image store returns them). */
  layers: string[];
  initLayer: string;
  upper: string;
  work: string;
  target: string;
  /** Where short aliases for long layer paths live (mount data is limited to one page). */
  aliasDir: string;
}

const MAX_MOUNT_DATA = 3800;

/** Builds overlayfs mount data; pure. */
export function overlayOptions(lowerTopFirst: string[], upper: string, work: string): string {
  return `lowerdir=${lowerTopFirst.join(":")},upperdir=${upper},workdir=${work}`;
}

function alias(aliasDir: string, dir: string): string {
  const link = `${aliasDir}/${createHash("sha256").update(dir).digest("hex").slice(0, 12)}`;
  try {
    if (readlinkSync(link) === dir) return link;
    rmSync(link, { force: true });
  } catch {}
  symlinkSync(dir, link);
  return link;
}

export function mountRootfs(l: RootfsLayout): void {
  for (const d of [l.upper, l.work, l.target]) mkdirSync(d, { recursive: true });
  let lower = [l.initLayer, ...[...l.layers].reverse()];
  let data = overlayOptions(lower, l.upper, l.work);
  if (data.length > MAX_MOUNT_DATA) {
    mkdirSync(l.aliasDir, { recursive: true });
    lower = lower.map((d) => alias(l.aliasDir, d));
    data = overlayOptions(lower, l.upper, l.work);
  }
  mount("overlay", l.target, "overlay", 0, data);
}

export function unmountRootfs(target: string): void {
  if (existsSync(target)) umount(target);
}

/** The pod's init layer: name resolution files every container of the pod sees. */
export function writeInitLayer(
  dir: string,
  files: {
    hostname: string;
    ip?: string;
    hostAliases: { ip: string; hostnames: string[] }[];
    resolvConf: string;
    /** A hostNetwork pod's /etc/hosts starts from the host's own file. */
    hostsBase?: string;
  },
): void {
  mkdirSync(`${dir}/etc`, { recursive: true });
  writeFileSync(`${dir}/etc/hostname`, `${files.hostname}\n`);
  const hosts =
    files.hostsBase !== undefined
      ? hostNetworkHostsFile(files.hostsBase, files.hostAliases)
      : hostsFile(files.hostname, files.ip, files.hostAliases);
  writeFileSync(`${dir}/etc/hosts`, hosts);
  writeFileSync(`${dir}/etc/resolv.conf`, files.resolvConf);
}

/** /etc/hosts the way the kubelet writes it; pure. */
export function hostsFile(
  hostname: string,
  ip: string | undefined,
  aliases: { ip: string; hostnames: string[] }[],
): string {
  const lines = [
    "# Kubernetes-managed hosts file (minik).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  if (ip) lines.push(`${ip}\t${hostname}`);
  for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join("\t")}`);
  return `${lines.join("\n")}\n`;
}

/** The host's /etc/hosts with the pod's hostAliases appended, as the kubelet writes it; pure. */
export function hostNetworkHostsFile(base: string, aliases: { ip: string; hostnames: string[] }[]): string {
  const lines = ["# Kubernetes-managed hosts file (host network).", base.trimEnd()];
  for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames.join("\t")}`);
  return `${lines.join("\n")}\n`;
}

export function resolvConf(dns: { nameservers: string[]; searches: string[]; options: string[] }): string {
  const lines: string[] = [];
  if (dns.searches.length) lines.push(`search ${dns.searches.join(" ")}`);
  for (const ns of dns.nameservers) lines.push(`nameserver ${ns}`);
  if (dns.options.length) lines.push(`options ${dns.options.join(" ")}`);
  return `${lines.join("\n")}\n`;
}
