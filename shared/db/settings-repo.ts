import { eq, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { settings } from "./schema/index.ts";

/**
 * Checks that this process runs with the PARTITIONS value the deployment was created with.
 * Partitions are fixed for the life of a deployment: a wallet's partition is stored at creation.
 */
export async function assertPartitions(db: Db, partitions: number): Promise<void> {
  const rows = await db.select().from(settings).where(eq(settings.key, "partitions"));
  const recorded = rows[0]?.value;
  if (recorded === undefined) {
    throw new Error("PARTITIONS is not recorded in the database: run `npm run db:migrate` first");
  }
  if (Number(recorded) !== partitions) {
    throw new Error(
      `PARTITIONS=${partitions} but this deployment was created with PARTITIONS=${recorded}; it cannot change`,
    );
  }
}

/** Records PARTITIONS at the first migration (a no-op afterwards), then checks it. */
export async function recordPartitions(db: Db, partitions: number): Promise<void> {
  await db
    .insert(settings)
    .values({ key: "partitions", value: String(partitions) })
    .onConflictDoNothing({ target: settings.key });
  await assertPartitions(db, partitions);
}

/** Postgres's deadlock counter for the current database (tests assert it does not move). */
export async function deadlockCount(db: Db): Promise<number> {
  const r = await db.execute<{ deadlocks: string }>(
    sql`SELECT deadlocks::text FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Number(r.rows[0]?.deadlocks ?? 0);
}
