import { z } from "zod";

/**
 * The environment, parsed once at start. Nothing else in the code base reads `process.env`:
 * each entry point calls {@link loadConfig} with the schema of its process and passes the frozen
 * result down.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
  .describe("Postgres connection string, e.g. postgres://postgres@127.0.0.1:5432/billing");

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
  .describe(
    "Connection string of one Redis server, e.g. redis://127.0.0.1:6379; this or REDIS_CLUSTER_NODES is required",
  );

/** One seed node of a Redis Cluster: `host:port` (`[v6address]:port`), or a `redis://`/`rediss://` URL. */
const CLUSTER_NODE =
  /^(?:(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/;

/** The seed nodes of a Redis Cluster and how to reach every node of it. */
export interface ClusterSeeds {
  nodes: { host: string; port: number }[];
  /** `rediss://` seeds: TLS to every node. */
  tls: boolean;
  username?: string;
  password?: string;
}

const redisClusterNodes = z
  .string()
  .transform((value, ctx): ClusterSeeds => {
    const entries = value.split(",").map((e) => e.trim());
    const parsed = entries.map((e) => CLUSTER_NODE.exec(e));
    const bad = entries.filter((_, i) => !parsed[i] || Number(parsed[i]?.[5]) > 65_535);
    if (bad.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `host:port (or redis:// / rediss:// URLs), comma-separated; not ${bad.map((b) => JSON.stringify(b)).join(", ")}`,
      });
      return z.NEVER;
    }
    const matches = parsed as RegExpExecArray[];
    // ioredis applies one scheme and one set of credentials to every node of the cluster.
    const [first] = matches;
    const same = matches.every((m) => m[1] === first?.[1] && m[2] === first?.[2] && m[3] === first?.[3]);
    if (!first || !same) {
      ctx.addIssue({
        code: "custom",
        message: "all host:port, or all URLs with the same scheme and credentials",
      });
      return z.NEVER;
    }
    return {
      nodes: matches.map((m) => ({ host: (m[4] ?? "").replace(/^\[(.*)\]$/, "$1"), port: Number(m[5]) })),
      tls: first[1] === "rediss",
      ...(first[2] ? { username: decodeURIComponent(first[2]) } : {}),
      ...(first[3] ? { password: decodeURIComponent(first[3]) } : {}),
    };
  })
  .describe(
    "Seed nodes of a Redis Cluster, host:port comma-separated (or redis:// / rediss:// URLs, one scheme and one set of credentials for all); replaces REDIS_URL",
  );

/**
 * Redis is one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`): exactly one of
 * the two. The rule runs even when other settings are wrong, so that every problem is listed at once.
 */
const redisSettings = {
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: redisClusterNodes.optional(),
};
function oneRedis(
  config: { REDIS_URL?: unknown; REDIS_CLUSTER_NODES?: unknown },
  ctx: z.RefinementCtx,
): void {
  const url = config.REDIS_URL !== undefined;
  const cluster = config.REDIS_CLUSTER_NODES !== undefined;
  if (url && cluster) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message:
        "REDIS_URL and REDIS_CLUSTER_NODES are both set: set REDIS_URL for one Redis server or REDIS_CLUSTER_NODES for a Redis Cluster, not both",
    });
  } else if (!url && !cluster) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "is required (or REDIS_CLUSTER_NODES, for a Redis Cluster)",
    });
  }
}
/** Runs {@link oneRedis} even when other fields failed (zod skips refinements after an issue by default). */
const always = { when: () => true };

/** `statement_timeout` of the process's Postgres sessions; the client gives up 5 s later. */
const dbStatementTimeout = (fallback: number) =>
  int(100, 600_000)
    .default(fallback)
    .describe(
      "statement_timeout of this process's Postgres sessions, ms; a query with no answer 5 s past it fails as a lost connection",
    );

/** Settings every process needs (the api and the workers add Redis: {@link redisSettings}). */
export const baseConfigSchema = z.object({
  DATABASE_URL: postgresUrl,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only (1..64)")
    .default("billing")
    .describe("Prefix of every Redis key; separates deployments sharing one Redis"),
  PARTITIONS: int(1, 1024)
    .default(16)
    .describe("Number of partition queues; recorded in the database at the first migration, fixed after"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("pino log level"),
});

/**
 * Read by the api (endpoint creation) and the worker (each delivery): both must apply the same
 * rule, so it is declared once here.
 */
const webhookAllowPrivateNetworks = z
  .stringbool()
  .default(false)
  .describe(
    "Allow webhook endpoints on loopback, private and other non-public addresses (development and tests only)",
  );

/** The HTTP gateway. */
export const apiConfigSchema = baseConfigSchema
  .extend(redisSettings)
  .extend({
    PORT: int(0, 65535).default(3000).describe("TCP port the api listens on"),
    API_PROCESSES: int(0, 256)
      .default(1)
      .describe(
        "api processes sharing PORT (node:cluster), each with its own pools and bounds; 0 = one per core (os.availableParallelism())",
      ),
    ADMIN_TOKEN: z
      .string()
      .min(16, "must be at least 16 characters")
      .describe("The operator's bearer token; it can only create clients"),
    DB_POOL_SIZE: int(1, 200).default(20).describe("Postgres connections per api process"),
    DB_STATEMENT_TIMEOUT_MS: dbStatementTimeout(10_000),
    RATE_LIMIT_REQUESTS: int(0, 10_000_000)
      .default(100_000)
      .describe(
        "Requests one client (or the operator) may make per window, counted in Redis across all api processes; 0 turns rate limiting off",
      ),
    RATE_LIMIT_WINDOW_SECONDS: int(1, 3_600).default(10).describe("Length of the fixed rate-limit window, s"),
    AUTH_FAILURES_PER_ADDRESS: int(0, 1_000_000)
      .default(1_000)
      .describe(
        "Requests with API keys that match no client (or a wrong operator token) that one client address may make per 10 s to one api process before any key that process does not know, the operator's included, gets 429 without a database read; 0 turns the bound off",
      ),
    BACKPRESSURE_MAX_PENDING: int(0, 1_000_000)
      .default(20_000)
      .describe(
        "Pending operations (all partitions) at which new money requests (a bulk's items each count) get 503 overloaded; 0 turns the check off",
      ),
    BACKPRESSURE_MAX_IN_FLIGHT: int(0, 1_000_000)
      .default(1_000)
      .describe(
        "Accepts in progress in one api process at which new ones get 503 overloaded; 0 turns the check off",
      ),
    BACKPRESSURE_MAX_EVENT_LOOP_DELAY_MS: int(0, 60_000)
      .default(500)
      .describe(
        "Event-loop delay (p99 over the last 250 ms) at which new money requests get 503 overloaded, ms; 0 turns the check off",
      ),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: webhookAllowPrivateNetworks,
  })
  .superRefine(oneRedis, always);

/** A worker process (partition runners). */
export const workerConfigSchema = baseConfigSchema
  .extend(redisSettings)
  .extend({
    BATCH_CAP: int(1, 10_000)
      .default(1_000)
      .describe(
        "Most operations one partition runner applies in one database transaction, while no other runner of its worker process has work",
      ),
    BATCH_CAP_SHARED: int(1, 10_000)
      .default(400)
      .describe(
        "Most operations in one batch while other partition runners of the same worker process have work, shared out among the partitions of a batch of several; at most BATCH_CAP",
      ),
    BATCH_CONCURRENCY: int(1, 64)
      .default(1)
      .describe(
        "Most batch transactions one worker process runs at once (its partitions queue for them, and those that waited together run in one); the deployment runs worker processes × this",
      ),
    BATCH_LINGER: int(0, 1_000)
      .default(8)
      .describe(
        "Turns a partition runner whose select found nothing stays, riding along other partitions' batches (or asking with the process's other idle runners, every 5 ms), before it confirms the partition drained and ends; 0 ends at once",
      ),
    DB_POOL_SIZE: int(1, 200)
      .default(4)
      .describe("Postgres connections per worker process; BATCH_CONCURRENCY + 2 leaves one for the sweeper"),
    DB_STATEMENT_TIMEOUT_MS: dbStatementTimeout(30_000),
    SWEEP_INTERVAL_MS: int(100, 600_000)
      .default(5_000)
      .describe("How often each worker's sweeper looks for partitions with stale pending operations, ms"),
    SWEEP_GRACE_MS: int(0, 3_600_000)
      .default(5_000)
      .describe("How long an operation may stay pending before the sweeper rings its partition, ms"),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: webhookAllowPrivateNetworks,
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .regex(/^\d+(,\d+)*$/, "comma-separated whole seconds, e.g. 5,300,1800")
      .default("5,300,1800,7200,18000,36000,36000")
      .transform((s) => s.split(",").map(Number))
      .refine((delays) => delays.every((d) => d <= 604_800), "each delay is at most 604800 s (7 days)")
      .describe("Seconds between webhook delivery attempts; one attempt more than delays in all"),
    WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(15_000).describe("Timeout of one webhook attempt, ms"),
    METRICS_PORT: int(0, 65_535)
      .default(9_464)
      .describe(
        "TCP port of the worker's own HTTP listener (GET /metrics, GET /healthz); 0 lets the system pick a free port (logged)",
      ),
    WEBHOOK_CONCURRENCY: int(0, 256)
      .default(16)
      .describe("Webhook attempts in flight at once in this worker process; 0 runs no sender here"),
    WEBHOOK_ENDPOINT_CONCURRENCY: int(1, 64)
      .default(2)
      .describe("Webhook attempts in flight at once to one endpoint, per worker process"),
    WEBHOOK_POLL_INTERVAL_MS: int(50, 60_000)
      .default(500)
      .describe("How often an idle webhook sender looks for due deliveries, ms"),
    WEBHOOK_DB_POOL_SIZE: int(1, 20)
      .default(2)
      .describe("Postgres connections of the webhook sender, apart from the runners' pool"),
  })
  .superRefine(oneRedis, always);

/** `npm run db:migrate`. */
export const migrateConfigSchema = baseConfigSchema.pick({
  DATABASE_URL: true,
  PARTITIONS: true,
  LOG_LEVEL: true,
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Parses `env` with `schema`; returns the problems (one line each, naming the variable) or the config. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): { ok: true; config: Readonly<z.infer<S>> } | { ok: false; problems: string[] } {
  // An empty value means "not set", as in docker compose files with `VAR=`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return { ok: true, config: Object.freeze(result.data) };
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".");
    const message =
      issue.code === "invalid_type" && cleaned[name] === undefined ? "is required" : issue.message;
    return `${name}: ${message}`;
  });
  return { ok: false, problems };
}

/** Parses `process.env` once; on any problem prints every one of them and exits the process with 1. */
export function loadConfig<S extends z.ZodType>(schema: S, processName: string): Readonly<z.infer<S>> {
  const parsed = parseConfig(schema, process.env);
  if (parsed.ok) return parsed.config;
  console.error(`${processName}: invalid configuration, not starting:`);
  for (const p of parsed.problems) console.error(`  - ${p}`);
  process.exit(1);
}
