import { type ChildProcess, execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { spawnOwned } from "./spawn-owned.ts";
import { answersPing, onFreePorts, redisServerArgs, until, untilAnswering } from "./throwaway.ts";

/**
 * A Redis Cluster of the test's own: `redis-server` nodes on free ports in a temporary
 * directory, joined with `redis-cli --cluster create`. Nodes can be killed and started again
 * (each keeps its nodes.conf and its AOF). They never touch the machine's shared Redis.
 */
export interface ThrowawayCluster {
  /** REDIS_CLUSTER_NODES: every node, as seeds. */
  nodes: string;
  ports: number[];
  /** Ports of the nodes that are masters now, by the view of a running node. */
  masters(): Promise<number[]>;
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** A plain (non-cluster) connection to one node; the caller disconnects it. */
  node(port: number): Redis;
  /** SIGKILL: no save, no goodbye to the others. */
  kill(port: number): Promise<void>;
  /**
   * SIGSTOP: the node stops answering, clients and cluster bus alike, without closing a
   * connection (a hung master); the cluster marks it failed only after its node timeout.
   */
  freeze(port: number): void;
  /** SIGCONT: a frozen node answers again. */
  thaw(port: number): void;
  /** Starts a killed node again with its nodes.conf and AOF. */
  start(port: number): Promise<void>;
  /**
   * Resolves once every running node reports `cluster_state:ok` with all slots served, and every
   * running replica has its link to its master up (a replica still in its first sync cannot be
   * promoted).
   */
  healthy(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once `killed`, a master, has been replaced by its replica. On a timeout it rejects
   * with every running node's view of the cluster and the end of each node's log.
   */
  replaced(killed: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

export async function startRedisCluster(
  opts: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {},
): Promise<ThrowawayCluster> {
  const masterCount = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  // A failed master is noticed (and its replica promoted) after about this long. Redis's own
  // default, 15 s, unless a test kills nodes: a short one also fails live nodes that a loaded
  // machine keeps from answering the cluster bus in time.
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), "billing-redis-cluster-"));
  const count = masterCount * (1 + replicas);
  const ports: number[] = [];
  const busPorts = new Map<number, number>();
  const children = new Map<number, ChildProcess>();

  const start = async (port: number) => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const child = spawnOwned(
      "redis-server",
      [
        ...redisServerArgs(port, nodeDir),
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        String(busPorts.get(port)),
        "--cluster-config-file",
        join(nodeDir, "nodes.conf"),
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        "--logfile",
        join(nodeDir, "redis.log"),
      ],
      { stdio: "ignore" },
    );
    children.set(port, child);
    await untilAnswering(`redis node ${port}`, child, () => answersPing(`redis://127.0.0.1:${port}`));
  };
  const kill = async (port: number) => {
    const child = children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  };
  const running = () =>
    ports.filter((p) => children.get(p)?.exitCode === null && !children.get(p)?.signalCode);
  const withNode = async <T>(fn: (r: Redis) => Promise<T>): Promise<T> => {
    const port = running()[0];
    if (port === undefined) throw new Error("no cluster node is running");
    const r = plain(port);
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  const healthy = async (timeoutMs = 30_000) => {
    await until(
      "the cluster to be ok",
      async () => {
        for (const port of running()) {
          const r = plain(port);
          try {
            const info = String(await r.cluster("INFO"));
            if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
            const replication = await r.info("replication");
            if (replication.includes("role:slave") && !replication.includes("master_link_status:up"))
              return false;
          } finally {
            r.disconnect();
          }
        }
        return true;
      },
      timeoutMs,
    );
  };

  const mastersNow = () =>
    withNode(async (r) =>
      String(await r.cluster("NODES"))
        .split("\n")
        .map((line) => line.split(" "))
        .filter(([, , flags = ""]) => flags.split(",").includes("master") && !flags.includes("fail"))
        .map(([, address = ""]) => Number(/:(\d+)@/.exec(address)?.[1]))
        .sort((a, b) => a - b),
    );
  /** Each running node's view of the cluster and the end of each node's log, for a failure message. */
  const diagnosis = async () => {
    const parts: string[] = [];
    for (const port of ports) {
      if (running().includes(port)) {
        const r = plain(port);
        try {
          parts.push(`node ${port}'s view:\n${String(await r.cluster("NODES")).trim()}`);
        } catch (err) {
          parts.push(`node ${port} did not answer: ${String(err)}`);
        } finally {
          r.disconnect();
        }
      }
      const log = readFileSync(join(dir, String(port), "redis.log"), "utf8")
        .trimEnd()
        .split("\n");
      parts.push(`node ${port}'s log, last lines:\n${log.slice(-12).join("\n")}`);
    }
    return parts.join("\n\n");
  };
  const replaced = async (killed: number, timeoutMs = 60_000) => {
    try {
      await until(
        `a replica to replace the killed master ${killed}`,
        async () => {
          const now = await mastersNow();
          return now.length === masterCount && !now.includes(killed);
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await diagnosis()}`);
    }
  };

  try {
    // Each node on a port and a bus port of its own, found free (again, if taken meanwhile).
    await Promise.all(
      Array.from({ length: count }, () =>
        onFreePorts(2, async ([port = 0, bus = 0]) => {
          busPorts.set(port, bus);
          await start(port);
          ports.push(port);
        }),
      ),
    );
    await execFileP(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ],
      { timeout: 60_000 },
    );
    await healthy();
  } catch (err) {
    await Promise.all(ports.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(","),
    ports,
    masters: mastersNow,
    masterOf: (key) =>
      withNode(async (r) => {
        const slot = Number(await r.cluster("KEYSLOT", key));
        const range = (await r.cluster("SLOTS")).find(([from, to]) => slot >= from && slot <= to);
        const port = range?.[2]?.[1];
        if (port === undefined) throw new Error(`no node serves slot ${slot}`);
        return Number(port);
      }),
    node: plain,
    kill,
    freeze: (port) => children.get(port)?.kill("SIGSTOP"),
    thaw: (port) => children.get(port)?.kill("SIGCONT"),
    start,
    healthy,
    replaced,
    async stop() {
      await Promise.all(ports.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function plain(port: number): Redis {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: false, maxRetriesPerRequest: 1 });
  r.on("error", () => {});
  return r;
}

/** How a parametrised test's system reaches Redis. */
export interface RedisMode {
  name: "single Redis" | "Redis Cluster";
  cluster: boolean;
}
export const REDIS_MODES: readonly RedisMode[] = [
  { name: "single Redis", cluster: false },
  { name: "Redis Cluster", cluster: true },
];

/**
 * One three-master cluster for a whole test file, started by the first mode that needs it and
 * stopped after the file's last test (failed or not). Call it at the top level of the file.
 */
export function clusterForFile(): {
  /** startSystem's Redis options for `mode`. */
  options(mode: RedisMode): Promise<{ redisClusterNodes?: string }>;
  get(): Promise<ThrowawayCluster>;
} {
  let started: Promise<ThrowawayCluster> | undefined;
  afterAll(async () => {
    if (started) await (await started).stop();
  });
  const get = () => {
    started ??= startRedisCluster();
    return started;
  };
  return {
    get,
    async options(mode) {
      return mode.cluster ? { redisClusterNodes: (await get()).nodes } : {};
    },
  };
}
