/** Linux capabilities as OCI names, and Docker's default set (what `docker run` grants). */
export const DOCKER_DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Every capability up to CAP_CHECKPOINT_RESTORE (40), in kernel order, for privileged containers. */
export const ALL_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Kubernetes writes capabilities without the prefix ("NET_ADMIN"); OCI wants "CAP_NET_ADMIN". */
export function normalizeCap(name: string): string {
  const upper = name.toUpperCase();
  return upper === "ALL" || upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

/** Docker's defaults, then `drop` (ALL drops everything), then `add` (ALL adds everything). */
export function effectiveCaps(add: string[] = [], drop: string[] = []): string[] {
  const d = drop.map(normalizeCap);
  const a = add.map(normalizeCap);
  let caps = d.includes("ALL") ? [] : DOCKER_DEFAULT_CAPS.filter((c) => !d.includes(c));
  if (a.includes("ALL")) caps = [...ALL_CAPS];
  else for (const c of a) if (!caps.includes(c)) caps.push(c);
  return caps;
}
