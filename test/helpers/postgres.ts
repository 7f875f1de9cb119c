/**
 * A private PostgreSQL for tests: initdb into a fresh temp dir, then the server on a free port of
 * 127.0.0.1 (and a unix socket in that dir), trust auth, no fsync (these tests are about
 * behaviour, not power loss). It never touches a system cluster on :5432. PostgreSQL refuses to
 * run as root, so as root it runs as the `postgres` user (runuser); otherwise as the current user.
 *
 * A guardian shell, started detached, stops the server and removes the dir when this process
 * ends in any way (its stdin pipe closes), so a crashed or killed test leaves no postgres behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** the URL of database `name` on this server */
  urlFor(name: string): string;
  /** creates an empty database and returns its URL */
  createDatabase(name: string): Promise<string>;
  /** stops the server (fast shutdown: sessions are cut), keeping its data: an outage */
  takeDown(): Promise<void>;
  /** starts it again after takeDown(): same port, same data */
  bringUp(): Promise<void>;
  /** stops the server and removes its files; idempotent */
  stop(): Promise<void>;
}

/** bin dir of the newest installed PostgreSQL */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `bash scripts/ensure-system-deps.sh`",
    );
  }
  return join(root, versions[0]!, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function startPostgres(
  opts: {
    /** fsync on, as in production (benchmarks); default off: tests are about behaviour */ durable?: boolean;
  } = {},
): Promise<TestPostgres> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "parley-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "postgres.log");
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const pgRun = (tool: string, args: string[]): Promise<string> =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args])
      : run(join(bin, tool), args);

  const guardian = spawnGuardian(dir, data, bin, asRoot);
  let port = 0;
  const startServer = async (): Promise<void> => {
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${opts.durable === true ? "" : " -c fsync=off -c full_page_writes=off"}`;
    try {
      await pgRun("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"]);
    } catch (err) {
      const tail = existsSync(log)
        ? readFileSync(log, "utf8").split("\n").slice(-15).join("\n")
        : "";
      throw new Error(
        `PostgreSQL did not start on port ${port}: ${(err as Error).message}\n${tail}`,
      );
    }
  };
  const stopServer = async (mode: "fast" | "immediate"): Promise<void> => {
    if (!existsSync(join(data, "postmaster.pid"))) return;
    await pgRun("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await stopServer("fast");
    } catch {
      killPostmaster(data);
    }
    rmSync(dir, { recursive: true, force: true });
    guardian.stdin?.end();
  };

  try {
    await pgRun("initdb", [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    // a port free a moment ago may be taken by the time the server binds it: try a few
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await startServer();
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const urlFor = (name: string): string => `postgres://postgres@127.0.0.1:${port}/${name}`;
  return {
    url: urlFor("postgres"),
    port,
    urlFor,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlFor("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    takeDown: () => stopServer("fast"),
    bringUp: startServer,
    stop,
  };
}

/** Kills the postmaster by the PID in its pid file (ours: we started it), when pg_ctl could not stop it. */
function killPostmaster(data: string): void {
  try {
    const pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    if (pid > 0) process.kill(pid, "SIGKILL");
  } catch {
    // no pid file, or the process is gone: nothing to kill
  }
}

function spawnGuardian(dir: string, data: string, bin: string, asRoot: boolean): ChildProcess {
  // Waits for EOF on stdin (this process ended), then stops the server if it still runs.
  const script = `
cat >/dev/null
if [ -f "$2/postmaster.pid" ]; then
  pid=$(head -n 1 "$2/postmaster.pid")
  if [ "$4" = root ]; then runuser -u postgres -- "$3/pg_ctl" -D "$2" -m immediate -w -t 20 stop
  else "$3/pg_ctl" -D "$2" -m immediate -w -t 20 stop; fi >/dev/null 2>&1 || kill -9 "$pid" 2>/dev/null
fi
rm -rf "$1"
`;
  const child = spawn(
    "sh",
    ["-c", script, "pg-guardian", dir, data, bin, asRoot ? "root" : "user"],
    {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return child;
}
