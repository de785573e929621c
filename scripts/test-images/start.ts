/**
 * Starts minik's test registries on 127.0.0.1 only (Debian's docker-registry 2.8), pushes the test
 * images into them and writes `<out>/env.json`, which test/support/registry.ts reads.
 *
 *   plain  — no auth
 *   basic  — htpasswd (bcrypt) basic auth
 *   token  — bearer-token auth, tokens from token-server.ts (RS256 JWTs)
 *
 * All three share one storage directory (with one `http.secret`), so one push serves them all.
 * Idempotent and fast when already running: reuses live registries, skips pushes that are there.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ArchiveInfo, type BuildResult, buildTestImages, DEFAULT_OUT, type ImageInfo } from "./build.ts";
import { alive, takeLease } from "./leases.ts";
import { pushAll } from "./push.ts";
import { prepareTokenAuth } from "./token-keys.ts";

export interface RegistryInfo {
  host: string;
  url: string;
  username?: string;
  password?: string;
}

export interface TestImagesEnv {
  registries: { plain: RegistryInfo; basic: RegistryInfo; token?: RegistryInfo & { tokenRealm: string } };
  images: Record<string, ImageInfo>;
  archives: { oci: ArchiveInfo; docker: ArchiveInfo };
  /** Process ids this script started (stop kills exactly these). */
  pids: number[];
  stamp: string;
}

const USER = "minik";
const PASSWORD = "minik-test-password";

async function answers(url: string, okStatuses = [200, 401]): Promise<boolean> {
  try {
    const r = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(500) });
    await r.arrayBuffer();
    return okStatuses.includes(r.status);
  } catch {
    return false;
  }
}

async function portFree(port: number): Promise<boolean> {
  try {
    const s = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** Four consecutive free ports from 5100 up: plain, basic, token registry, token server. */
async function freePorts(): Promise<number[]> {
  for (let base = 5100; base < 5300; base += 4) {
    const ports = [base, base + 1, base + 2, base + 3];
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return ports;
  }
  throw new Error("test registries: no 4 free ports between 5100 and 5300 on 127.0.0.1");
}

function registryConfig(out: string, port: number, secret: string, auth?: string): string {
  return `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(out, "registry-data")}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: ${secret}
${auth ?? ""}`;
}

function startDetached(cmd: string[], log: string): number {
  const fd = openSync(log, "a");
  const child = spawn(cmd[0]!, cmd.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
  child.unref();
  if (!child.pid) throw new Error(`test registries: could not start ${cmd.join(" ")}`);
  return child.pid;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`test registries: ${what} did not come up in ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

export async function startTestRegistries(out = DEFAULT_OUT): Promise<TestImagesEnv> {
  const build: BuildResult = await buildTestImages(out);
  const envPath = join(out, "env.json");
  if (existsSync(envPath)) {
    const prev = JSON.parse(readFileSync(envPath, "utf8")) as TestImagesEnv;
    const live = prev.pids.every(alive) && (await answers(prev.registries.plain.url));
    if (live) {
      await pushAll(prev.registries.plain.url, build);
      const env = { ...prev, images: build.images, archives: build.archives, stamp: build.stamp };
      writeFileSync(envPath, JSON.stringify(env, null, 2));
      return env;
    }
    for (const pid of prev.pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  }

  const run = join(out, "run");
  mkdirSync(run, { recursive: true });
  const secret = crypto.randomUUID();
  const [plainPort, basicPort, tokenPort, tokenServerPort] = await freePorts();
  const htpasswd = join(run, "htpasswd");
  writeFileSync(htpasswd, `${USER}:${await Bun.password.hash(PASSWORD, { algorithm: "bcrypt", cost: 4 })}\n`);
  // The bearer-token registry needs openssl for its key; without it the token tests skip.
  const token = await prepareTokenAuth(run).catch((e: Error) => {
    console.warn(`test registries: no bearer-token registry (${e.message})`);
    return undefined;
  });
  const tokenRealm = `http://127.0.0.1:${tokenServerPort}/token`;

  const configs: Record<string, string> = {
    plain: registryConfig(out, plainPort!, secret),
    basic: registryConfig(
      out,
      basicPort!,
      secret,
      `auth:\n  htpasswd:\n    realm: minik-test\n    path: ${htpasswd}\n`,
    ),
  };
  if (token) {
    configs.token = registryConfig(
      out,
      tokenPort!,
      secret,
      `auth:\n  token:\n    realm: ${tokenRealm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.certPath}\n`,
    );
  }
  const pids: number[] = [];
  for (const [name, text] of Object.entries(configs)) {
    const path = join(run, `${name}.yml`);
    writeFileSync(path, text);
    pids.push(startDetached(["docker-registry", "serve", path], join(run, `${name}.log`)));
  }
  if (token) {
    pids.push(
      startDetached(
        [process.execPath, join(import.meta.dir, "token-server.ts"), String(tokenServerPort), run],
        join(run, "token-server.log"),
      ),
    );
  }
  const url = (p: number) => `http://127.0.0.1:${p}`;
  const waits = [
    waitUntil("plain registry", () => answers(url(plainPort!), [200])),
    waitUntil("basic-auth registry", () => answers(url(basicPort!), [401])),
  ];
  if (token) {
    waits.push(waitUntil("token registry", () => answers(url(tokenPort!), [401])));
    waits.push(
      waitUntil("token server", async () => {
        try {
          return (await fetch(`${url(tokenServerPort!)}/healthz`)).ok;
        } catch {
          return false;
        }
      }),
    );
  }
  try {
    await Promise.all(waits);
  } catch (e) {
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    throw new Error(`${(e as Error).message}; logs in ${run}`);
  }
  await pushAll(url(plainPort!), build);

  const env: TestImagesEnv = {
    registries: {
      plain: { host: `127.0.0.1:${plainPort}`, url: url(plainPort!) },
      basic: { host: `127.0.0.1:${basicPort}`, url: url(basicPort!), username: USER, password: PASSWORD },
      ...(token
        ? {
            token: {
              host: `127.0.0.1:${tokenPort}`,
              url: url(tokenPort!),
              username: USER,
              password: PASSWORD,
              tokenRealm,
            },
          }
        : {}),
    },
    images: build.images,
    archives: build.archives,
    pids,
    stamp: build.stamp,
  };
  writeFileSync(envPath, JSON.stringify(env, null, 2));
  return env;
}

if (import.meta.main) {
  const t0 = performance.now();
  const out = process.argv[2] ?? DEFAULT_OUT;
  const env = await startTestRegistries(out);
  takeLease(out);
  const r = env.registries;
  console.log(
    `test registries up in ${Math.round(performance.now() - t0)} ms: plain ${r.plain.url}, basic ${r.basic.url}, token ${r.token?.url} (env: ${join(process.argv[2] ?? DEFAULT_OUT, "env.json")})`,
  );
}
