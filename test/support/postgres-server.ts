import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A private PostgreSQL server on a free loopback port, from Debian's postgresql package, for the
 * Postgres store's tests: its data dir lives under a temp dir that `stop()` removes with the
 * process. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
export interface PostgresServer {
  /** `postgres://minik@127.0.0.1:PORT/postgres` (trust auth on loopback, test only). */
  url: string;
  /** Stops the server (a datastore outage); `start()` brings it back on the same port and data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string | undefined {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      if (readdirSync(dir).includes("postgres")) return dir;
    }
  } catch {}
  return undefined;
}

export const postgresBin = binDir();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
  if (!postgresBin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "minik-pg-"));
  const data = join(dir, "data");
  const user = postgresUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const asUser = (cmd: string[]) =>
    user ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", ...cmd] : cmd;
  const [initdb, ...args] = asUser([
    `${postgresBin}/initdb`,
    "-D",
    data,
    "-U",
    "minik",
    "--auth=trust",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  execFileSync(initdb!, args, { stdio: "ignore" });
  const port = await freePort();
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const url = `postgres://minik@127.0.0.1:${port}/postgres`;

  async function start(): Promise<void> {
    proc = Bun.spawn(
      asUser([
        `${postgresBin}/postgres`,
        "-D",
        data,
        "-k",
        dir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=200",
      ]),
      { stdout: "ignore", stderr: "ignore" },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        execFileSync(`${postgresBin}/pg_isready`, ["-h", "127.0.0.1", "-p", String(port), "-q"]);
        return;
      } catch {}
      if (Date.now() > deadline)
        throw new Error(`postgres on 127.0.0.1:${port} did not accept connections in 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function kill(): Promise<void> {
    if (!proc) return;
    proc.kill("SIGINT"); // fast shutdown: clients are cut off, the data stays
    await proc.exited;
    proc = undefined;
  }

  await start();
  return {
    url,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
