import { loadConfig, migrateConfigSchema } from "../shared/config.ts";
import { runMigrations } from "../shared/db/migrate.ts";

const config = loadConfig(migrateConfigSchema, "db:migrate");
try {
  await runMigrations({ url: config.DATABASE_URL, partitions: config.PARTITIONS, folder: "drizzle" });
  console.log(`db:migrate: up to date (PARTITIONS=${config.PARTITIONS})`);
} catch (err) {
  console.error(`db:migrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
