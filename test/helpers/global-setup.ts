import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { runMigrations } from "../../shared/db/migrate.ts";
import { assertServicesUp, dbUrl, withAdminPg } from "./services.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Once per run: checks Postgres and Redis answer (else fails with how to start them), and builds
 * a template database by running our migrations. Each test file clones it (CREATE DATABASE …
 * TEMPLATE), which takes milliseconds.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await assertServicesUp();
  const template = `billing_tmpl_${randomBytes(4).toString("hex")}`;
  await withAdminPg((c) => c.query(`CREATE DATABASE ${template}`));
  await runMigrations({ url: dbUrl(template), folder: "drizzle" });
  project.provide("templateDatabase", template);
  return async () => {
    await withAdminPg((c) => c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
  };
}
