import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { createSelfSignedCertificate } from "./tls-certificate.ts";

const testOnBun = "Bun" in globalThis ? test : test.skip;

describe("self-signed certificate", () => {
  test("parses, verifies with its own key, names 127.0.0.1 and localhost, and is a CA", async () => {
    const { cert, key } = await createSelfSignedCertificate({
      dnsNames: ["localhost", "minik.local"],
      ipAddresses: ["127.0.0.1", "10.0.0.7", "::1"],
    });
    expect(key).toStartWith("-----BEGIN PRIVATE KEY-----\n");
    const x = new X509Certificate(cert);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x.checkIP("10.0.0.7")).toBe("10.0.0.7");
    expect(x.checkHost("minik.local")).toBe("minik.local");
    expect(x.checkIP("10.0.0.8")).toBeUndefined();
    expect(x.checkIP("::1")).toBe("::1");
    expect(x.ca).toBe(true);
    expect(x.subject).toBe("CN=minik");
    expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now() + 365 * 86_400_000);
  });

  // Bun.serve and fetch's `tls` option are Bun's: skipped under Deno (scripts/deno-test)
  testOnBun("serves HTTPS that a client trusting only this certificate accepts", async () => {
    const tls = await createSelfSignedCertificate();
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls, fetch: () => new Response("secure") });
    try {
      const res = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: tls.cert } } as RequestInit);
      expect(await res.text()).toBe("secure");
      const other = await createSelfSignedCertificate();
      await expect(
        fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: other.cert } } as RequestInit),
      ).rejects.toThrow();
    } finally {
      server.stop(true);
    }
  });
});
