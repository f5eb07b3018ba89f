import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDb } from "../../shared/db/client.ts";
import { runMigrations } from "../../shared/db/migrate.ts";
import { dbUrl, REDIS_URL, withAdminPg } from "../helpers/services.ts";
import { spawnWorkerProcess } from "../helpers/system.ts";

const database = `billing_migrate_${randomBytes(4).toString("hex")}`;
const url = dbUrl(database);
afterAll(() => withAdminPg((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

describe("db:migrate and PARTITIONS", () => {
  it("is safe to run twice, records PARTITIONS once and refuses another value", async () => {
    await withAdminPg((c) => c.query(`CREATE DATABASE ${database}`));
    await runMigrations({ url, partitions: 8, folder: "drizzle" });
    await runMigrations({ url, partitions: 8, folder: "drizzle" });
    await expect(runMigrations({ url, partitions: 16, folder: "drizzle" })).rejects.toThrow(
      "PARTITIONS=16 but this deployment was created with PARTITIONS=8",
    );
    const handle = openDb({ url, poolSize: 1, applicationName: "test" });
    const tables = await handle.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.rows[0]?.n).toBe(9);
    await handle.close();
  });

  it("a worker started with another PARTITIONS value refuses to start, naming both values", async () => {
    const child = spawnWorkerProcess({
      DATABASE_URL: url,
      REDIS_URL,
      PARTITIONS: "4",
      QUEUE_PREFIX: "migrate-test",
    });
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).not.toBe(0);
    expect(output).toContain("PARTITIONS=4 but this deployment was created with PARTITIONS=8");
  });
});
