import { Redis } from "ioredis";
import pg from "pg";

/** Where the tests find Postgres (a server URL, no database) and Redis. */
export const PG_SERVER_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export const dbUrl = (database: string, server = PG_SERVER_URL): string =>
  `${server.replace(/\/$/, "")}/${database}`;

/** Runs `fn` with a connection to the server's `postgres` database. */
export async function withAdminPg<T>(fn: (c: pg.Client) => Promise<T>, server = PG_SERVER_URL): Promise<T> {
  const c = new pg.Client({ connectionString: dbUrl("postgres", server), connectionTimeoutMillis: 3_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Fails at once, with one line saying how to start what is missing. */
export async function assertServicesUp(): Promise<void> {
  try {
    await withAdminPg((c) => c.query("SELECT 1"));
  } catch {
    throw new Error(
      `Postgres does not answer at ${PG_SERVER_URL}: start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or set TEST_PG_URL`,
    );
  }
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    throw new Error(
      `Redis does not answer at ${REDIS_URL}: start it (redis-server --daemonize yes --bind 127.0.0.1 --port 6379) or set TEST_REDIS_URL`,
    );
  } finally {
    redis.disconnect();
  }
}
