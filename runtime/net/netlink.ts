import { dlopen, read } from "bun:ffi";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { MS_BIND, MS_REC, MS_SHARED, mount, SyscallError } from "../supervise/libc.ts";

/**
 * The few rtnetlink requests a pod's own namespace needs (address, links up, default route),
 * sent from this process instead of one `ip -n NETNS -batch` per pod (an exec: ≈4 ms in the
 * daemon). The socket is opened while this thread has setns(2)ed into the pod's namespace (a
 * per-thread switch, allowed in a multi-threaded process) and works there after the thread
 * goes back; the kernel answers these requests within sendmsg, so the replies are read at once.
 */
const lib = dlopen("libc.so.6", {
  open: { args: ["ptr", "i32"], returns: "i32" },
  close: { args: ["i32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  unshare: { args: ["i32"], returns: "i32" },
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  send: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
  recv: { args: ["i32", "ptr", "u64", "i32"], returns: "i64" },
  if_nametoindex: { args: ["ptr"], returns: "u32" },
  strerror: { args: ["i32"], returns: "cstring" },
  __errno_location: { args: [], returns: "ptr" },
}).symbols;

const AF_NETLINK = 16;
const AF_INET = 2;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;
const O_RDONLY_CLOEXEC = 0o2000000;
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLMSG_ERROR = 2;
const IFF_UP = 1;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const RTA_GATEWAY = 5;
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;

const cstr = (s: string) => Buffer.from(`${s}\0`);

function errno(): number {
  const p = lib.__errno_location();
  return p ? read.i32(p, 0) : 0;
}

function fail(what: string, code: number): Error {
  return new Error(`${what}: ${lib.strerror(code)} (errno ${code})`);
}

function ipv4Bytes(ip: string): number[] {
  return ip.split(".").map(Number);
}

/** One netlink message: header + fixed body + attributes (type, 4-byte-aligned payload). */
function message(
  type: number,
  flags: number,
  seq: number,
  body: number[],
  attrs: [number, number[]][],
): Uint8Array {
  const parts: number[] = [...body];
  for (const [t, payload] of attrs) {
    const len = 4 + payload.length;
    parts.push(len & 0xff, len >> 8, t & 0xff, t >> 8, ...payload);
    while (parts.length % 4) parts.push(0);
  }
  const buf = new Uint8Array(16 + parts.length);
  const v = new DataView(buf.buffer);
  v.setUint32(0, buf.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags | NLM_F_REQUEST | NLM_F_ACK, true);
  v.setUint32(8, seq, true);
  buf.set(parts, 16);
  return buf;
}

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** Opens a route socket inside the namespace at `netnsPath`, with eth0's index there. */
function openInNetns(netnsPath: string, ifname: string): { sock: number; ifindex: number } {
  const target = lib.open(cstr(netnsPath), O_RDONLY_CLOEXEC);
  if (target < 0) throw fail(`open ${netnsPath}`, errno());
  const own = lib.open(cstr("/proc/thread-self/ns/net"), O_RDONLY_CLOEXEC);
  if (own < 0) {
    const e = errno();
    lib.close(target);
    throw fail("open /proc/thread-self/ns/net", e);
  }
  try {
    if (lib.setns(target, CLONE_NEWNET) !== 0) throw fail(`setns ${netnsPath}`, errno());
    const sock = lib.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, NETLINK_ROUTE);
    const sockErr = errno();
    const ifindex = lib.if_nametoindex(cstr(ifname));
    const ifErr = errno();
    // Failing to return would leave the daemon's main thread in a pod's network namespace.
    if (lib.setns(own, CLONE_NEWNET) !== 0)
      throw fail("setns (back to the daemon's own network namespace)", errno());
    if (sock < 0) throw fail("netlink socket", sockErr);
    if (!ifindex) {
      lib.close(sock);
      throw fail(`${ifname} in ${netnsPath}`, ifErr);
    }
    return { sock, ifindex };
  } finally {
    lib.close(own);
    lib.close(target);
  }
}

function request(sock: number, msg: Uint8Array, what: string): void {
  if (Number(lib.send(sock, msg, msg.length, 0)) !== msg.length) throw fail(what, errno());
  const reply = new Uint8Array(1024);
  const n = Number(lib.recv(sock, reply, reply.length, 0));
  if (n < 20) throw fail(what, errno());
  const v = new DataView(reply.buffer);
  if (v.getUint16(4, true) !== NLMSG_ERROR) throw new Error(`${what}: unexpected netlink reply`);
  const code = -v.getInt32(16, true);
  if (code !== 0) throw fail(what, code);
}

/**
 * In the namespace at `netnsPath`: `addr add IP/PREFIX dev eth0`, `link set lo up`,
 * `link set eth0 up`, `route add default via GATEWAY` — what `ip -n NETNS -batch` did.
 */
export function configurePodInterface(
  netnsPath: string,
  ip: string,
  prefixLength: number,
  gateway: string,
): void {
  const { sock, ifindex } = openInNetns(netnsPath, "eth0");
  try {
    let seq = 1;
    // ifaddrmsg: family, prefixlen, flags, scope, index
    request(
      sock,
      message(
        RTM_NEWADDR,
        NLM_F_CREATE | NLM_F_EXCL,
        seq++,
        [AF_INET, prefixLength, 0, 0, ...u32(ifindex)],
        [
          [IFA_LOCAL, ipv4Bytes(ip)],
          [IFA_ADDRESS, ipv4Bytes(ip)],
        ],
      ),
      `addr add ${ip}/${prefixLength} dev eth0`,
    );
    for (const [name, index] of [
      ["lo", 1],
      ["eth0", ifindex],
    ] as const) {
      // ifinfomsg: family, pad, type, index, flags, change
      const body = [0, 0, 0, 0, ...u32(index), ...u32(IFF_UP), ...u32(IFF_UP)];
      request(sock, message(RTM_NEWLINK, 0, seq++, body, []), `link set ${name} up`);
    }
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags
    request(
      sock,
      message(
        RTM_NEWROUTE,
        NLM_F_CREATE | NLM_F_EXCL,
        seq++,
        [AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, 0, RTN_UNICAST, ...u32(0)],
        [[RTA_GATEWAY, ipv4Bytes(gateway)]],
      ),
      `route add default via ${gateway}`,
    );
  } finally {
    lib.close(sock);
  }
}

const IFLA_IFNAME = 3;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const NLA_F_NESTED = 0x8000;

/** An attribute's bytes (header + payload, padded), for nesting. */
function attr(type: number, payload: number[]): number[] {
  const len = 4 + payload.length;
  const out = [len & 0xff, len >> 8, type & 0xff, type >> 8, ...payload];
  while (out.length % 4) out.push(0);
  return out;
}

const name = (s: string) => [...Buffer.from(`${s}\0`)];

/**
 * `ip netns add NAME` + `ip link add VETH master BRIDGE up type veth peer name eth0 netns NAME`
 * without an exec: the namespace is made by unshare(2) on this thread (per-thread, then back)
 * and bind-mounted at `netnsPath` the way ip does it, the veth pair by one RTM_NEWLINK.
 */
export function addNetnsWithVeth(netnsPath: string, veth: string, bridge: string): void {
  const own = lib.open(cstr("/proc/thread-self/ns/net"), O_RDONLY_CLOEXEC);
  if (own < 0) throw fail("open /proc/thread-self/ns/net", errno());
  try {
    makeNetns(netnsPath, own);
  } finally {
    lib.close(own);
  }
  const nsfd = lib.open(cstr(netnsPath), O_RDONLY_CLOEXEC);
  if (nsfd < 0) throw fail(`open ${netnsPath}`, errno());
  const sock = lib.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, NETLINK_ROUTE);
  try {
    if (sock < 0) throw fail("netlink socket", errno());
    const master = lib.if_nametoindex(cstr(bridge));
    if (!master) throw fail(`bridge ${bridge}`, errno());
    const peer = [
      ...new Array(16).fill(0),
      ...attr(IFLA_IFNAME, name("eth0")),
      ...attr(IFLA_NET_NS_FD, u32(nsfd)),
    ];
    const linkinfo = [
      ...attr(IFLA_INFO_KIND, name("veth")),
      ...attr(IFLA_INFO_DATA | NLA_F_NESTED, attr(VETH_INFO_PEER | NLA_F_NESTED, peer)),
    ];
    // ifinfomsg: family, pad, type, index, flags, change
    const body = [0, 0, 0, 0, ...u32(0), ...u32(IFF_UP), ...u32(IFF_UP)];
    request(
      sock,
      message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 1, body, [
        [IFLA_IFNAME, name(veth)],
        [IFLA_MASTER, u32(master)],
        [IFLA_LINKINFO | NLA_F_NESTED, linkinfo],
      ]),
      `link add ${veth} master ${bridge} up type veth peer name eth0`,
    );
  } finally {
    if (sock >= 0) lib.close(sock);
    lib.close(nsfd);
  }
}

let netnsDirShared = false;

/** What `ip netns add` does first: the namespace directory is a shared mount point. */
function shareNetnsDir(dir: string): void {
  if (netnsDirShared) return;
  mkdirSync(dir, { recursive: true });
  try {
    mount("none", dir, null, MS_SHARED | MS_REC);
  } catch (e) {
    if (!(e instanceof SyscallError && e.errno === 22)) throw e;
    mount(dir, dir, null, MS_BIND | MS_REC);
    mount("none", dir, null, MS_SHARED | MS_REC);
  }
  netnsDirShared = true;
}

function makeNetns(netnsPath: string, own: number): void {
  shareNetnsDir(dirname(netnsPath));
  closeSync(openSync(netnsPath, "wx", 0));
  try {
    if (lib.unshare(CLONE_NEWNET) !== 0) throw fail("unshare(CLONE_NEWNET)", errno());
    let failure: unknown;
    try {
      mount("/proc/thread-self/ns/net", netnsPath, null, MS_BIND);
    } catch (e) {
      failure = e;
    }
    // Failing to return would leave the daemon's main thread in a pod's network namespace.
    if (lib.setns(own, CLONE_NEWNET) !== 0)
      throw fail("setns (back to the daemon's own network namespace)", errno());
    if (failure !== undefined) throw failure;
  } catch (e) {
    rmSync(netnsPath, { force: true });
    throw e;
  }
}
