import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";

/**
 * `npm run up`, for local use where Postgres and Redis answer (on localhost or at DATABASE_URL /
 * REDIS_URL): creates the database if missing, migrates, starts the api (two api processes,
 * API_PROCESSES, unless set) and two workers, and
 * stops them all on Ctrl-C or SIGTERM. A launcher, not the app: it reads process.env only to fill
 * in local defaults; the processes it starts parse their own configuration.
 */

// Runs as dist/scripts/up.js: the repository root (the children's cwd, holding drizzle/) is ../..
const root = resolve(import.meta.dirname, "../..");
const generatedToken = process.env.ADMIN_TOKEN ? undefined : randomBytes(24).toString("base64url");
const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/billing",
  // A Redis Cluster (REDIS_CLUSTER_NODES) replaces the local Redis; the processes refuse both.
  ...(process.env.REDIS_CLUSTER_NODES
    ? {}
    : { REDIS_URL: process.env.REDIS_URL || "redis://127.0.0.1:6379" }),
  ADMIN_TOKEN: process.env.ADMIN_TOKEN || generatedToken,
  PORT: process.env.PORT || "3000",
  // Two api processes on the port, as in docker-compose.yml: more than one exercises the shared
  // port, and two keep the Postgres connections (2 x 22) well under a default server's 100.
  API_PROCESSES: process.env.API_PROCESSES || "2",
  // Local development: webhook endpoints may point at this machine (npm run demo's receiver).
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: process.env.WEBHOOK_ALLOW_PRIVATE_NETWORKS || "true",
};
const children = new Set<ChildProcess>();
let stopping = false;

/** Starts `node <script>` with `env` (plus `extra`), each output line prefixed with `[name]`; a long-running one that exits stops all. */
function start(name: string, script: string, oneShot = false, extra: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...env, ...extra },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => console.log(`[${name}] ${line}`));
  }
  children.add(child);
  child.once("exit", (code, signal) => {
    children.delete(child);
    if (stopping || oneShot) return;
    console.error(`up: ${name} exited (${signal ?? code}); stopping everything`);
    void stop(1);
  });
  return child;
}

/** Forwards SIGTERM to every child, waits for all to exit (each bounds its own shutdown), exits. */
async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const running = [...children];
  for (const child of running) child.kill("SIGTERM");
  await Promise.all(running.map((c) => (c.exitCode ?? c.signalCode) !== null || once(c, "exit")));
  console.log("up: stopped");
  process.exit(exitCode);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(0));

/** Hides the password of a connection URL. */
const masked = (url: string): string => url.replace(/(\/\/[^:@/]*):[^@/]*@/g, "$1:***@");

/** Runs `probe`; if it throws, says what does not answer and how to start it, and exits 1. */
async function mustAnswer(
  what: string,
  url: string,
  hint: string,
  probe: () => Promise<unknown>,
): Promise<void> {
  try {
    await probe();
  } catch (err) {
    console.error(`up: ${what} does not answer at ${masked(url)} (${String(err)}).\n    ${hint}`);
    process.exit(1);
  }
}

/** Creates the database named in DATABASE_URL, through the server's `postgres` database, if missing. */
async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  const how = "Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set DATABASE_URL.";
  await mustAnswer("Postgres", url, how, () => client.connect());
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      console.log(`up: created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

/** Workers would wait for an absent Redis silently: fail at once instead. */
async function ensureRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  const how = "Start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379) or set REDIS_URL.";
  await mustAnswer("Redis", url, how, () => redis.connect().then(() => redis.ping()));
  redis.disconnect();
}

async function main(): Promise<void> {
  const databaseUrl = env.DATABASE_URL ?? "";
  await ensureDatabase(databaseUrl);
  // A cluster's seeds are checked by the processes themselves (they wait for the cluster).
  if (env.REDIS_URL) await ensureRedis(env.REDIS_URL);
  const [migrated] = await once(start("migrate", "dist/scripts/migrate.js", true), "exit");
  if (stopping) return; // Ctrl-C during the migration: stop() exits.
  if (migrated !== 0) {
    console.error("up: migration failed; not starting");
    process.exit(1);
  }
  start("api", "dist/api/main.js");
  // Two workers on one host: a metrics port each (METRICS_PORT, default 9464, and the next one).
  const metricsPort = Number(process.env.METRICS_PORT || 9464);
  start("worker-1", "dist/worker/main.js", false, { METRICS_PORT: String(metricsPort) });
  start("worker-2", "dist/worker/main.js", false, { METRICS_PORT: String(metricsPort + 1) });

  const base = `http://localhost:${env.PORT}`;
  let answering = false;
  for (let i = 0; i < 100 && !answering && !stopping; i++) {
    answering = (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true;
    if (!answering) await sleep(100);
  }
  if (stopping) return;
  // A token from the environment is not echoed; the example refers to the variable instead.
  const token = generatedToken ?? "$ADMIN_TOKEN";
  console.log(`
  api          ${base}   (${env.API_PROCESSES === "0" ? "one process per core" : `${env.API_PROCESSES} processes`}, API_PROCESSES)${answering ? "" : "   (not answering yet: see the [api] lines)"}
  docs         ${base}/docs   (OpenAPI: ${base}/openapi.json)
  metrics      ${base}/metrics, http://localhost:${metricsPort}/metrics, http://localhost:${metricsPort + 1}/metrics
  admin token  ${generatedToken ?? "from ADMIN_TOKEN"}
  database     ${masked(databaseUrl)}
  redis        ${env.REDIS_URL ? masked(env.REDIS_URL) : `cluster ${masked(env.REDIS_CLUSTER_NODES ?? "")}`}
  webhooks     endpoints on private addresses ${env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === "true" ? "allowed (local development)" : "refused"}
  demo         API_URL=${base} ADMIN_TOKEN=${token} npm run demo
  create a client:
    curl -s -X POST ${base}/v1/clients -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' -d '{"name":"acme"}'
  Ctrl-C stops everything.
`);
}

await main();
