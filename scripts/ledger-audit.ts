import { parseArgs } from "node:util";
import { baseConfigSchema, loadConfig } from "../shared/config.ts";
import "../shared/module-resolution.ts";

// After the hook: drizzle-orm loads without a package look-up per module.
const { openDb } = await import("../shared/db/client.ts");
const { auditLedger } = await import("../shared/db/ledger-audit.ts");
const { errorSummary } = await import("../shared/log-safe.ts");

/**
 * `npm run ledger:audit [-- --pending-bound-seconds=N]`: checks every ledger invariant at one
 * instant (REPEATABLE READ READ ONLY), prints a report, exits 1 on any violation; 2 when it could
 * not run (a bad argument, or the database failed: the error in one line, no stack or SQL).
 */
const { values } = parseArgs({ options: { "pending-bound-seconds": { type: "string" } } });
const bound = values["pending-bound-seconds"];
if (bound !== undefined && !/^\d+$/.test(bound)) {
  console.error("ledger:audit: --pending-bound-seconds must be a whole number of seconds");
  process.exit(2);
}
const config = loadConfig(baseConfigSchema.pick({ DATABASE_URL: true }), "ledger:audit");
const { db, close } = openDb({
  url: config.DATABASE_URL,
  poolSize: 1,
  applicationName: "billing-ledger-audit",
});
const started = performance.now();
const report = await auditLedger(db, bound === undefined ? {} : { pendingBoundSeconds: Number(bound) }).catch(
  async (err: unknown) => {
    const { type, code, message } = errorSummary(err);
    console.error(
      `ledger:audit: the audit could not run, nothing was checked: ${type}${code ? ` ${code}` : ""}: ${message}`,
    );
    await close().catch(() => {});
    process.exit(2);
  },
);
await close();
for (const check of report.checks) {
  console.log(
    `${check.violations === 0 ? "ok  " : "FAIL"}  ${check.name}${check.violations ? ` (${check.violations})` : ""}`,
  );
  for (const row of check.sample) console.log(`        ${JSON.stringify(row)}`);
}
console.log(`ledger:audit: ${report.ok ? "PASS" : "FAIL"} in ${Math.round(performance.now() - started)} ms`);
process.exit(report.ok ? 0 : 1);
