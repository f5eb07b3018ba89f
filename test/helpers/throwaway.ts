import { type ChildProcess, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { spawnOwned } from "./spawn-owned.ts";

/**
 * Servers of a test's own, on free ports, that the test may kill and restart. They never touch
 * the machine's shared Postgres and Redis.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Waits until `child` answers (`check`, every 100 ms), and fails as soon as it has exited: a port
 * from {@link freePort} may be taken again before the server binds it (vitest runs files in
 * parallel, and every outgoing connection draws from the same range), and the server then exits
 * at once instead of answering.
 */
export async function untilAnswering(
  what: string,
  child: ChildProcess,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  let exited = false;
  await until(
    what,
    async () => {
      exited = child.exitCode !== null || child.signalCode !== null;
      return exited || check();
    },
    timeoutMs,
  );
  if (exited) throw new ExitedEarly(what);
}

/** A server's process exited before it answered. */
export class ExitedEarly extends Error {
  constructor(what: string) {
    super(`${what} exited before it answered`);
    this.name = "ExitedEarly";
  }
}

/**
 * Starts a server on new free ports (`count` of them) with `startOn`, again on other ports if its
 * process exited before answering (the port was taken meanwhile): up to three tries.
 */
export async function onFreePorts<T>(count: number, startOn: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort());
    try {
      return await startOn(ports);
    } catch (err) {
      if (!(err instanceof ExitedEarly) || attempt === 3) throw err;
    }
  }
}

/** Polls `check` every 100 ms until it holds (a throw counts as not yet); rejects after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `redis-server` arguments of a test's own server on `port`, with its files in `dir`: what
 * production Redis runs with (AOF fsynced every second, no RDB snapshots, noeviction for BullMQ).
 */
export function redisServerArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--save",
    "",
    "--maxmemory-policy",
    "noeviction",
  ];
}

/** True once a fresh connection to `url` gets PONG (no retries: one attempt). */
export async function answersPing(url: string): Promise<boolean> {
  // A bounded PING: something else may hold the port and never answer.
  const r = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    commandTimeout: 2_000,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } finally {
    r.disconnect();
  }
}

export interface ThrowawayRedis {
  url: string;
  /** SIGKILL (no save), then start again on the same port and directory (AOF replayed). */
  restart(): Promise<void>;
  /** SIGKILL, leaving it down until {@link ThrowawayRedis.start}. */
  kill(): Promise<void>;
  /** Starts it again after {@link ThrowawayRedis.kill}. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `redis-server` with AOF (`appendfsync everysec`) in a temporary directory. */
export async function startRedis(): Promise<ThrowawayRedis> {
  const dir = mkdtempSync(join(tmpdir(), "billing-redis-"));
  let child: ChildProcess | undefined;
  let port = 0;
  const url = () => `redis://127.0.0.1:${port}`;
  const start = async () => {
    const started = spawnOwned("redis-server", redisServerArgs(port, dir), { stdio: "ignore" });
    child = started;
    await untilAnswering("redis", started, () => answersPing(url()));
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child?.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  await onFreePorts(1, async ([free = 0]) => {
    port = free;
    await start();
  });
  return {
    url: url(),
    async restart() {
      await kill();
      await start();
    },
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ThrowawayPostgres {
  /** Server URL without a database. */
  serverUrl: string;
  /** Fast shutdown (`pg_ctl -m immediate`: a crash, WAL replayed at start), then start again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PG_BIN = (() => {
  try {
    return execFileSync("pg_config", ["--bindir"], { encoding: "utf8" }).trim();
  } catch {
    return "/usr/lib/postgresql/15/bin";
  }
})();

/**
 * A Postgres cluster of the test's own. `initdb` and `pg_ctl` refuse to run as root, so they
 * run as the `postgres` user (runuser) in a directory it owns.
 */
export async function startPostgres(): Promise<ThrowawayPostgres> {
  let port = 0;
  const dir = mkdtempSync(join(tmpdir(), "billing-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const asPostgres = (cmd: string, args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync("runuser", ["-u", "postgres", "--", join(PG_BIN, cmd), ...args], { stdio: "pipe" })
      : execFileSync(join(PG_BIN, cmd), args, { stdio: "pipe" });
  asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const log = join(dir, "log");
  const start = async () => {
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100`;
    const logged = existsSync(log) ? statSync(log).size : 0;
    try {
      asPostgres("pg_ctl", ["-D", data, "-o", opts, "-l", log, "-w", "start"]);
    } catch (err) {
      // This start's lines only: the port was taken between freePort and the bind.
      const lines = existsSync(log) ? readFileSync(log).subarray(logged).toString("utf8") : "";
      if (lines.includes("Address already in use")) throw new ExitedEarly(`postgres on ${port}`);
      throw err;
    }
    await until("postgres", async () => {
      const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await c.connect();
      await c.end();
      return true;
    });
  };
  await onFreePorts(1, async ([free = 0]) => {
    port = free;
    await start();
  });
  return {
    serverUrl: `postgres://postgres@127.0.0.1:${port}`,
    async restart() {
      asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      await start();
    },
    async stop() {
      try {
        asPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface TcpProxy {
  port: number;
  /**
   * Freezes every connection open now: from here on their bytes are dropped in both directions
   * and nothing tells either end (a dead path, as after a failover that did not reset them).
   * Connections opened later pass normally. A frozen connection closed by one end is closed at
   * the other, so the server's session does not outlive the client's.
   */
  freeze(): void;
  /**
   * The next client message holding `marker` (a Postgres statement's name or text, say) is
   * passed to the server, whose answer is then held back until its ReadyForQuery (the implicit
   * transaction has committed) and dropped, and the connection is cut at both ends: a COMMIT
   * that reached the WAL whose reply never came back. With `thenUnreachable`, every other
   * connection is cut at that moment too and new ones are refused until {@link refuseNew}(false).
   */
  loseReplyTo(marker: string, opts?: { thenUnreachable?: boolean }): void;
  /** The next client message holding `marker` is dropped and its connection cut: never sent. */
  cutBefore(marker: string): void;
  /** While true, every new connection is cut at once (the server unreachable). */
  refuseNew(refuse: boolean): void;
  close(): Promise<void>;
}

/** Postgres's ReadyForQuery message: 'Z', then its length, 5. */
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5]);

/** A TCP proxy on a free port to `127.0.0.1:targetPort`, whose connections a test can freeze. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ frozen: boolean; client: Socket; server: Socket }>();
  let loseReply: { marker: string; thenUnreachable: boolean } | undefined;
  let cut: string | undefined;
  let refusing = false;
  const proxy = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const server = connect(targetPort, "127.0.0.1");
    const pair = { frozen: false, client, server };
    /** Set once this connection's answers are being held back to be lost: what came so far. */
    let held: Buffer | undefined;
    let unreachableAfter = false;
    open.add(pair);
    const end = () => {
      open.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      if (pair.frozen) return;
      if (cut !== undefined && chunk.includes(cut)) {
        cut = undefined;
        end();
        return;
      }
      if (loseReply !== undefined && chunk.includes(loseReply.marker)) {
        unreachableAfter = loseReply.thenUnreachable;
        loseReply = undefined;
        held = Buffer.alloc(0);
      }
      server.write(chunk);
    });
    server.on("data", (chunk: Buffer) => {
      if (pair.frozen) return;
      if (held === undefined) {
        client.write(chunk);
        return;
      }
      held = Buffer.concat([held, chunk]);
      if (!held.includes(READY_FOR_QUERY)) return;
      end();
      if (unreachableAfter) {
        refusing = true;
        for (const other of open) {
          other.client.destroy();
          other.server.destroy();
        }
      }
    });
    for (const s of [client, server]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    port: address.port,
    freeze() {
      for (const pair of open) pair.frozen = true;
    },
    loseReplyTo(marker, opts = {}) {
      loseReply = { marker, thenUnreachable: opts.thenUnreachable ?? false };
    },
    cutBefore(marker) {
      cut = marker;
    },
    refuseNew(refuse) {
      refusing = refuse;
    },
    async close() {
      for (const pair of open) {
        pair.client.destroy();
        pair.server.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
