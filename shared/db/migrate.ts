import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { recordPartitions } from "./settings-repo.ts";

/** Any constant: serialises concurrent `db:migrate` runs (two compose replicas, say). */
const MIGRATION_LOCK = 7_240_911;

/**
 * Applies the generated migrations in `folder` (idempotent: applied ones are skipped) and
 * records PARTITIONS (when given) on the first run, refusing a different value later.
 */
export async function runMigrations(opts: {
  url: string;
  partitions?: number;
  folder: string;
}): Promise<void> {
  const client = new pg.Client({ connectionString: opts.url, application_name: "billing-migrate" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    const db = drizzle({ client });
    await migrate(db, { migrationsFolder: opts.folder });
    if (opts.partitions !== undefined) await recordPartitions(db, opts.partitions);
  } finally {
    await client.end();
  }
}
