import { loadConfig, migrateConfigSchema } from "../shared/config.ts";
import "../shared/module-resolution.ts";

// After the hook: drizzle-orm loads without a package look-up per module.
const { runMigrations } = await import("../shared/db/migrate.ts");

const config = loadConfig(migrateConfigSchema, "db:migrate");
try {
  await runMigrations({ url: config.DATABASE_URL, partitions: config.PARTITIONS, folder: "drizzle" });
  console.log(`db:migrate: up to date (PARTITIONS=${config.PARTITIONS})`);
} catch (err) {
  console.error(`db:migrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
