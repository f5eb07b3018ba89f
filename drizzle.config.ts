import { defineConfig } from "drizzle-kit";

// Generation only (`npm run db:generate`): it diffs the schema files, no database is needed.
export default defineConfig({
  dialect: "postgresql",
  schema: "./shared/db/schema/index.ts",
  out: "./drizzle",
});
