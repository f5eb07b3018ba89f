import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { apiConfigSchema, parseConfig, workerConfigSchema } from "../../shared/config.ts";

const apiEnv = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/billing",
  REDIS_URL: "redis://127.0.0.1:6379",
  ADMIN_TOKEN: "a-token-of-at-least-16-chars",
};
const workerEnv = { DATABASE_URL: apiEnv.DATABASE_URL, REDIS_URL: apiEnv.REDIS_URL };

const without = (env: Record<string, string>, name: string) =>
  Object.fromEntries(Object.entries(env).filter(([k]) => k !== name));

const problemsOf = (result: ReturnType<typeof parseConfig>): string[] => (result.ok ? [] : result.problems);

describe("parseConfig", () => {
  it("applies the defaults and freezes the result", () => {
    const api = parseConfig(apiConfigSchema, apiEnv);
    expect(api.ok && api.config).toMatchObject({
      PORT: 3000,
      QUEUE_PREFIX: "billing",
      PARTITIONS: 16,
      LOG_LEVEL: "info",
      DB_POOL_SIZE: 20,
      RATE_LIMIT_REQUESTS: 100_000,
      RATE_LIMIT_WINDOW_SECONDS: 10,
      BACKPRESSURE_MAX_PENDING: 20_000,
      BACKPRESSURE_MAX_IN_FLIGHT: 1_000,
      BACKPRESSURE_MAX_EVENT_LOOP_DELAY_MS: 500,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: false,
    });
    expect(api.ok && Object.isFrozen(api.config)).toBe(true);
    const worker = parseConfig(workerConfigSchema, workerEnv);
    expect(worker.ok && worker.config).toMatchObject({
      BATCH_CAP: 1_000,
      BATCH_CAP_SHARED: 400,
      BATCH_CONCURRENCY: 1,
      DB_POOL_SIZE: 4,
      SWEEP_INTERVAL_MS: 5_000,
      SWEEP_GRACE_MS: 5_000,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: false,
      WEBHOOK_RETRY_SCHEDULE: [5, 300, 1800, 7200, 18000, 36000, 36000],
      WEBHOOK_TIMEOUT_MS: 15_000,
      METRICS_PORT: 9_464,
      WEBHOOK_CONCURRENCY: 16,
      WEBHOOK_ENDPOINT_CONCURRENCY: 2,
      WEBHOOK_POLL_INTERVAL_MS: 500,
      WEBHOOK_DB_POOL_SIZE: 2,
    });
  });

  it("WEBHOOK_ALLOW_PRIVATE_NETWORKS means the same to the api and the worker", () => {
    for (const value of ["true", "1", "yes", "false", "0", "no"]) {
      const api = parseConfig(apiConfigSchema, { ...apiEnv, WEBHOOK_ALLOW_PRIVATE_NETWORKS: value });
      const worker = parseConfig(workerConfigSchema, { ...workerEnv, WEBHOOK_ALLOW_PRIVATE_NETWORKS: value });
      expect(api.ok && api.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(
        worker.ok && worker.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      );
    }
  });

  it.each([
    ["api", apiConfigSchema, apiEnv, "DATABASE_URL"],
    ["api", apiConfigSchema, apiEnv, "REDIS_URL"],
    ["api", apiConfigSchema, apiEnv, "ADMIN_TOKEN"],
    ["worker", workerConfigSchema, workerEnv, "DATABASE_URL"],
    ["worker", workerConfigSchema, workerEnv, "REDIS_URL"],
  ] as const)("%s without %s: one problem naming it", (_process, schema, env, name) => {
    const required = [expect.stringMatching(new RegExp(`^${name}: is required`))];
    expect(problemsOf(parseConfig(schema, without(env, name)))).toEqual(required);
    // An empty value counts as not set.
    expect(problemsOf(parseConfig(schema, { ...env, [name]: "" }))).toEqual(required);
  });

  it("lists every problem at once", () => {
    expect(problemsOf(parseConfig(apiConfigSchema, {}))).toEqual([
      "DATABASE_URL: is required",
      "ADMIN_TOKEN: is required",
      "REDIS_URL: is required (or REDIS_CLUSTER_NODES, for a Redis Cluster)",
    ]);
  });

  it.each([
    ["api", "DATABASE_URL", "mysql://localhost/billing", "postgres://"],
    ["api", "REDIS_URL", "localhost:6379", "redis://"],
    ["api", "ADMIN_TOKEN", "short", "at least 16"],
    ["api", "PORT", "70000", ""],
    ["api", "PORT", "http", ""],
    ["api", "PARTITIONS", "0", ""],
    ["api", "PARTITIONS", "2.5", ""],
    ["api", "QUEUE_PREFIX", "a:b", "letters, digits"],
    ["api", "LOG_LEVEL", "loud", ""],
    ["api", "DB_POOL_SIZE", "0", ""],
    ["worker", "BATCH_CAP", "10001", ""],
    ["worker", "SWEEP_INTERVAL_MS", "10", ""],
    ["worker", "SWEEP_GRACE_MS", "-1", ""],
    ["worker", "WEBHOOK_ALLOW_PRIVATE_NETWORKS", "maybe", ""],
    ["worker", "WEBHOOK_RETRY_SCHEDULE", "5,,300", "comma-separated"],
    ["worker", "WEBHOOK_TIMEOUT_MS", "50", ""],
    ["worker", "METRICS_PORT", "70000", ""],
    ["api", "RATE_LIMIT_REQUESTS", "-1", ""],
    ["api", "RATE_LIMIT_WINDOW_SECONDS", "0", ""],
    ["api", "BACKPRESSURE_MAX_PENDING", "lots", ""],
    ["api", "BACKPRESSURE_MAX_IN_FLIGHT", "1.5", ""],
    ["api", "BACKPRESSURE_MAX_EVENT_LOOP_DELAY_MS", "60001", ""],
    ["worker", "WEBHOOK_RETRY_SCHEDULE", "5,604801", "at most 604800"],
    ["worker", "WEBHOOK_CONCURRENCY", "-1", ""],
    ["worker", "WEBHOOK_ENDPOINT_CONCURRENCY", "0", ""],
    ["worker", "WEBHOOK_POLL_INTERVAL_MS", "10", ""],
    ["worker", "WEBHOOK_DB_POOL_SIZE", "0", ""],
    ["api", "WEBHOOK_ALLOW_PRIVATE_NETWORKS", "maybe", ""],
  ] as const)("%s with %s=%s: a problem naming it", (process, name, value, hint) => {
    const [schema, env] = process === "api" ? [apiConfigSchema, apiEnv] : [workerConfigSchema, workerEnv];
    const problems = problemsOf(parseConfig(schema, { ...env, [name]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: .+`));
    expect(problems[0]).toContain(hint);
  });
});

describe("REDIS_CLUSTER_NODES", () => {
  const cluster = (value: string) => ({ ...without(workerEnv, "REDIS_URL"), REDIS_CLUSTER_NODES: value });

  it.each([
    [apiConfigSchema, without(apiEnv, "REDIS_URL")],
    [workerConfigSchema, without(workerEnv, "REDIS_URL")],
  ])("replaces REDIS_URL: seed nodes parsed, no other Redis setting needed", (schema, env) => {
    const parsed = parseConfig(schema, {
      ...env,
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001,[::1]:7002",
    });
    expect(parsed.ok && parsed.config.REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "redis-b", port: 7001 },
        { host: "::1", port: 7002 },
      ],
      tls: false,
    });
    expect(parsed.ok && parsed.config.REDIS_URL).toBeUndefined();
  });

  it("takes TLS and credentials from URLs", () => {
    const parsed = parseConfig(
      workerConfigSchema,
      cluster("rediss://app:s%40cret@a:7000,rediss://app:s%40cret@b:7000"),
    );
    expect(parsed.ok && parsed.config.REDIS_CLUSTER_NODES).toEqual({
      nodes: [
        { host: "a", port: 7000 },
        { host: "b", port: 7000 },
      ],
      tls: true,
      username: "app",
      password: "s@cret",
    });
  });

  it("and REDIS_URL together: one problem naming both", () => {
    const problems = problemsOf(parseConfig(apiConfigSchema, { ...apiEnv, REDIS_CLUSTER_NODES: "a:7000" }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^REDIS_URL: REDIS_URL and REDIS_CLUSTER_NODES are both set/);
  });

  it.each([
    ["a", "host:port"],
    ["a:70000", "host:port"],
    ["a:7000,,b:7000", "host:port"],
    ["http://a:7000", "host:port"],
    ["a:7000,rediss://b:7000", "same scheme"],
    ["redis://x:y@a:7000,redis://b:7000", "same scheme"],
  ])("%s: a problem naming it", (value, hint) => {
    const problems = problemsOf(parseConfig(workerConfigSchema, cluster(value)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^REDIS_CLUSTER_NODES: /);
    expect(problems[0]).toContain(hint);
  });
});

describe("a process with a missing setting", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));

  /** Runs `node <entry>` with exactly `env` (nothing inherited but PATH); resolves with its exit. */
  function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [entry], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 20_000,
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stderr }));
    });
  }

  // The config is parsed before any connection is opened: these need neither Postgres nor Redis.
  // Each child still loads its entry point's imports (about 1 s of CPU, more while integration
  // tests load the machine): 30 s each.
  it.concurrent.each([
    ["api/main.ts", "DATABASE_URL", apiEnv],
    ["api/main.ts", "REDIS_URL", apiEnv],
    ["api/main.ts", "ADMIN_TOKEN", apiEnv],
    ["worker/main.ts", "DATABASE_URL", workerEnv],
    ["worker/main.ts", "REDIS_URL", workerEnv],
  ] as const)(
    "%s without %s exits 1 and names it",
    async (entry, name, env) => {
      const { code, stderr } = await run(entry, without(env, name));
      expect(code).toBe(1);
      expect(stderr).toContain("invalid configuration, not starting");
      expect(stderr).toContain(`${name}: is required`);
    },
    30_000,
  );
});
