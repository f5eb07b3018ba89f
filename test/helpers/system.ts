import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import { type Logger, pino } from "pino";
import { inject } from "vitest";
import type { z } from "zod";
import { type RunningApi, startApi } from "../../api/start-api.ts";
import { apiConfigSchema, parseConfig, workerConfigSchema } from "../../shared/config.ts";
import { type DbHandle, openDb } from "../../shared/db/client.ts";
import { runMigrations } from "../../shared/db/migrate.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { recordPartitions } from "../../shared/db/settings-repo.ts";
import { openRedis, type RedisClient, redisTarget } from "../../shared/redis/connection.ts";
import { deletePrefix } from "../../shared/redis/delete-prefix.ts";
import type { HostResolver } from "../../shared/webhooks/address-guard.ts";
import type { RunnerHooks } from "../../worker/partition-runner.ts";
import { type RunningWorker, startWorker, type WebhookSeams } from "../../worker/start-worker.ts";
import { dbUrl, REDIS_URL, withAdminPg } from "./services.ts";
import { spawnOwned } from "./spawn-owned.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";

export interface SystemOptions {
  partitions?: number;
  batchCap?: number;
  /** Worker processes (`node worker/main.ts`) to spawn. */
  workerProcesses?: number;
  /** An in-process worker with test hooks, instead of or beside the processes. */
  inProcessWorker?: { hooks?: RunnerHooks; webhooks?: WebhookSeams };
  afterInsert?: (operation: Operation) => Promise<void>;
  /** Extra settings for worker processes and the in-process worker (e.g. SWEEP_INTERVAL_MS). */
  workerSettings?: Record<string, string>;
  /** Extra settings for the api (e.g. BACKPRESSURE_MAX_PENDING, WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  apiSettings?: Record<string, string>;
  /** Replaces DNS for the api's webhook URL check. */
  apiResolveHost?: HostResolver;
  /** Logger of the in-process api and workers (default: silent), e.g. to inspect what they log. */
  logger?: Logger;
  /** Replaces the api's doorbell (see startApi's seams). */
  ring?: (partitions: number[]) => Promise<void>;
  /** How often the api's long polls re-read Postgres without a wake-up (see startApi's seams). */
  longPollRereadMs?: number;
  /** A throwaway Redis instead of the shared one. */
  redisUrl?: string;
  /** A Redis Cluster instead of the shared Redis: its seed nodes, as REDIS_CLUSTER_NODES. */
  redisClusterNodes?: string;
  /** A throwaway Postgres server (URL without database) instead of the shared one; migrated afresh. */
  pgServerUrl?: string;
}

/**
 * A worker process and the port of its metrics listener. In a pid namespace of its own the
 * ChildProcess is `unshare`, and `workerPid` the worker itself as this host sees it (it sees
 * itself as pid 1).
 */
export type SpawnedWorker = ChildProcess & { metricsPort: number; workerPid: number };

/** How to start a worker process: as is, or in a pid namespace of its own (as root: `unshare --pid`). */
export interface SpawnOptions {
  pidNamespace?: boolean;
}

export interface TestSystem {
  baseUrl: string;
  /** The api's Express application. */
  app: RunningApi["app"];
  databaseUrl: string;
  prefix: string;
  partitions: number;
  batchCap: number;
  /** A pool of the test's own, for assertions. */
  db: DbHandle["db"];
  /** The system's Redis (a cluster connection when the system runs on one). */
  redis: RedisClient;
  workerEnv: Record<string, string>;
  /** A worker process with the system's settings plus `settings`; resolves once started, with its metrics port. */
  spawnWorker(settings?: Record<string, string>, options?: SpawnOptions): Promise<SpawnedWorker>;
  /** SIGKILLs a spawned worker on purpose (its exit is then not reported as a crash). */
  killWorker(child: ChildProcess): Promise<void>;
  /** SIGTERMs a spawned worker and resolves with its exit code once it has exited. */
  terminateWorker(child: ChildProcess): Promise<number | null>;
  /** Another api process of the same deployment (same database, Redis and prefix), in this process. */
  startExtraApi(settings?: Record<string, string>): Promise<RunningApi & { baseUrl: string }>;
  /** Worker processes that exited without being asked to: "pid: code/signal". */
  crashes(): string[];
  /** A worker in this process with test hooks; `settings` override the system's for it alone. */
  startInProcessWorker(
    hooks?: RunnerHooks,
    webhooks?: WebhookSeams,
    settings?: Record<string, string>,
  ): Promise<RunningWorker>;
  /** The workers running in this process (the one of `inProcessWorker` first). */
  inProcessWorkers: RunningWorker[];
  stop(): Promise<void>;
}

const silent = pino({ level: "silent" });

/** `settings` read as a process reads its environment (an empty value is unset: the default). */
function configOf<S extends z.ZodType>(schema: S, settings: Record<string, string>): Readonly<z.infer<S>> {
  const parsed = parseConfig(schema, settings);
  if (!parsed.ok) throw new Error(`bad test settings: ${parsed.problems.join("; ")}`);
  return parsed.config;
}

/**
 * A whole system on a fresh database (cloned from the migrated template) and a fresh queue
 * prefix: the api in this process on a free port, workers as real processes.
 */
export async function startSystem(opts: SystemOptions = {}): Promise<TestSystem> {
  const partitions = opts.partitions ?? 4;
  const batchCap = opts.batchCap ?? 100;
  const suffix = randomBytes(5).toString("hex");
  const database = `billing_test_${suffix}`;
  const log = opts.logger ?? silent;
  const prefix = `test-${suffix}`;
  const server = opts.pgServerUrl;
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const databaseUrl = dbUrl(database, server);
  if (server) {
    await withAdminPg((c) => c.query(`CREATE DATABASE ${database}`), server);
    await runMigrations({ url: databaseUrl, folder: "drizzle" });
  } else {
    await withAdminPg((c) => c.query(`CREATE DATABASE ${database} TEMPLATE ${inject("templateDatabase")}`));
  }
  const handle = openDb({ url: databaseUrl, poolSize: 5, applicationName: "billing-test" });
  await recordPartitions(handle.db, partitions);

  const env = {
    DATABASE_URL: databaseUrl,
    ...(opts.redisClusterNodes ? { REDIS_CLUSTER_NODES: opts.redisClusterNodes } : { REDIS_URL: redisUrl }),
    QUEUE_PREFIX: prefix,
    PARTITIONS: String(partitions),
    BATCH_CAP: String(batchCap),
  };
  const apiSettings = {
    ...env,
    PORT: "0",
    ADMIN_TOKEN,
    DB_POOL_SIZE: "10",
    // Off unless a test turns it on: two shared cores can stall a test process's event loop,
    // which must not turn into random 503s in tests about something else.
    BACKPRESSURE_MAX_EVENT_LOOP_DELAY_MS: "0",
    // Off unless a test turns it on: the security suites send hundreds of unknown keys from
    // 127.0.0.1 and assert each one's 401 (auth-flood.security.test.ts tests the bound).
    AUTH_FAILURES_PER_ADDRESS: "0",
    ...opts.apiSettings,
  };
  const apiConfig = configOf(apiConfigSchema, apiSettings);
  const api: RunningApi = await startApi(apiConfig, log, {
    ...(opts.afterInsert ? { afterInsert: opts.afterInsert } : {}),
    ...(opts.ring ? { ring: opts.ring } : {}),
    ...(opts.apiResolveHost ? { resolveHost: opts.apiResolveHost } : {}),
    ...(opts.longPollRereadMs ? { longPollRereadMs: opts.longPollRereadMs } : {}),
  });
  const extraApis: RunningApi[] = [];
  const redis = openRedis(redisTarget(apiConfig), "blocking");
  const children: ChildProcess[] = [];
  const crashes: string[] = [];
  const expectedExits = new Set<ChildProcess>();
  const inProcess: RunningWorker[] = [];
  const workerEnv = {
    ...env,
    LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? "info",
    // A free port each: many workers run side by side on this machine.
    METRICS_PORT: "0",
    ...opts.workerSettings,
  };

  const system: TestSystem = {
    baseUrl: `http://127.0.0.1:${api.port}`,
    app: api.app,
    databaseUrl,
    prefix,
    partitions,
    batchCap,
    db: handle.db,
    redis,
    workerEnv,
    async spawnWorker(settings = {}, options = {}) {
      const child = spawnWorkerProcess({ ...workerEnv, ...settings }, options);
      children.push(child);
      child.once("exit", (code, signal) => {
        if (!expectedExits.has(child)) crashes.push(`${child.pid}: ${code ?? signal}`);
      });
      const line = await waitForLine(child, "worker started");
      const metricsPort = Number(/"metricsPort":(\d+)/.exec(line)?.[1]);
      return Object.assign(child, { metricsPort, workerPid: workerPidOf(child, options) });
    },
    async killWorker(child) {
      expectedExits.add(child);
      const exited = once(child, "exit");
      // unshare --kill-child passes a SIGKILL of unshare on to the worker.
      child.kill("SIGKILL");
      await exited;
    },
    async terminateWorker(child) {
      expectedExits.add(child);
      const exited = once(child, "exit");
      signalWorker(child, "SIGTERM");
      const [code] = await exited;
      return code as number | null;
    },
    async startExtraApi(settings = {}) {
      const extra = await startApi(configOf(apiConfigSchema, { ...apiSettings, ...settings }), silent);
      extraApis.push(extra);
      return Object.assign(extra, { baseUrl: `http://127.0.0.1:${extra.port}` });
    },
    crashes: () => [...crashes],
    inProcessWorkers: inProcess,
    async startInProcessWorker(hooks, webhooks, settings = {}) {
      const w = await startWorker(
        configOf(workerConfigSchema, { ...workerEnv, ...settings }),
        log,
        hooks,
        webhooks,
      );
      inProcess.push(w);
      return w;
    },
    async stop() {
      await Promise.all([api, ...extraApis].map((a) => a.stop()));
      await Promise.all(inProcess.map((w) => w.stop()));
      for (const c of children) expectedExits.add(c);
      await Promise.all(children.map((c) => stopChild(c)));
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
      await handle.close();
      await withAdminPg((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`), server).catch(
        () => {},
      );
    },
  };
  for (let i = 0; i < (opts.workerProcesses ?? 0); i++) await system.spawnWorker();
  if (opts.inProcessWorker)
    await system.startInProcessWorker(opts.inProcessWorker.hooks, opts.inProcessWorker.webhooks);
  return system;
}

/**
 * `node worker/main.ts` (Node strips the types) with the given environment only; with
 * `pidNamespace`, as pid 1 of a pid namespace of its own (`unshare --pid --fork --mount-proc`,
 * which needs root), as a worker in a container on another host would be.
 */
export function spawnWorkerProcess(env: Record<string, string>, options: SpawnOptions = {}): ChildProcess {
  const node = [process.execPath, "worker/main.ts"];
  // --kill-child: a SIGKILL of unshare kills the worker too (unshare itself ignores SIGTERM).
  const command = options.pidNamespace
    ? ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL", ...node]
    : node;
  return spawnOwned(command[0] as string, command.slice(1), {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The worker's own pid as this host sees it: the child, or unshare's one child. */
function workerPidOf(child: ChildProcess, options: SpawnOptions): number {
  const pid = child.pid ?? 0;
  if (!options.pidNamespace) return pid;
  const inner = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0]);
  if (!inner) throw new Error(`unshare ${pid} has no child`);
  return inner;
}

/** Signals the worker itself (unshare does not pass SIGTERM on). */
function signalWorker(child: ChildProcess, signal: NodeJS.Signals): void {
  const inner = (child as Partial<SpawnedWorker>).workerPid;
  if (inner && inner !== child.pid) process.kill(inner, signal);
  else child.kill(signal);
}

/**
 * Resolves with the first line the child prints that contains `text`; rejects if it exits first
 * or after 20 s.
 */
export function waitForLine(child: ChildProcess, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}": ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // Whole lines only: a chunk may end in the middle of one.
      const line = output
        .split("\n")
        .slice(0, -1)
        .find((l) => l.includes(text));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        if (process.env.TEST_WORKER_LOG)
          child.stdout?.pipe(createWriteStream(`${process.env.TEST_WORKER_LOG}-${child.pid}.log`));
        else child.stdout?.resume();
        resolve(line);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited with ${code} before "${text}": ${output}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  signalWorker(child, "SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}
