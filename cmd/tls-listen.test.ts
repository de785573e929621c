import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rememberTlsListen, TLS_LISTEN_FILE, tlsListenAddress } from "./tls-listen.ts";

describe("the TLS listener's address", () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const d = mkdtempSync(join(tmpdir(), "minik-tls-listen-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test("first start: 7443 beside the default 7080, a free port beside any other", () => {
    const dir = dataDir();
    expect(tlsListenAddress(dir, undefined, ["127.0.0.1", 7080])).toEqual({
      address: "127.0.0.1:7443",
      from: "default",
    });
    expect(tlsListenAddress(dir, undefined, ["127.0.0.1", 9000])).toEqual({
      address: "127.0.0.1:0",
      from: "default",
    });
  });

  test("a later start without --listen-tls keeps the port the last one got", () => {
    const dir = dataDir();
    rememberTlsListen(dir, "127.0.0.1", 40123);
    expect(readFileSync(join(dir, TLS_LISTEN_FILE), "utf8")).toBe("127.0.0.1:40123\n");
    expect(tlsListenAddress(dir, undefined, ["127.0.0.1", 9001])).toEqual({
      address: "127.0.0.1:40123",
      from: "data dir",
    });
    // the flag wins; another --listen host does not reuse the kept address
    expect(tlsListenAddress(dir, "0.0.0.0:8443", ["127.0.0.1", 9001]).address).toBe("0.0.0.0:8443");
    expect(tlsListenAddress(dir, undefined, ["10.0.0.5", 9001]).address).toBe("10.0.0.5:0");
  });

  test("IPv6 hosts keep their brackets", () => {
    const dir = dataDir();
    rememberTlsListen(dir, "::1", 40124);
    expect(tlsListenAddress(dir, undefined, ["::1", 9002]).address).toBe("[::1]:40124");
  });
});
