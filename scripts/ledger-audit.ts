import { parseArgs } from "node:util";
import { baseConfigSchema, parseConfig } from "../shared/config.ts";
import "../shared/module-resolution.ts";

// After the hook: drizzle-orm loads without a package look-up per module.
const { openDb } = await import("../shared/db/client.ts");
const { auditLedger } = await import("../shared/db/ledger-audit.ts");
const { errorSummary } = await import("../shared/log-safe.ts");

/**
 * `npm run ledger:audit [-- --pending-bound-seconds=N]`: checks every ledger invariant at one
 * instant (REPEATABLE READ READ ONLY), prints a report, exits 1 on any violation; 2 when it could
 * not run (a bad argument or setting, or the database failing: one line, no stack or SQL), so
 * that 1 always means the ledger is broken.
 */
function cannotRun(reason: string): never {
  console.error(`ledger:audit: the audit could not run, nothing was checked: ${reason}`);
  process.exit(2);
}

let bound: string | undefined;
try {
  bound = parseArgs({ options: { "pending-bound-seconds": { type: "string" } } }).values[
    "pending-bound-seconds"
  ];
} catch (err) {
  cannotRun(errorSummary(err).message);
}
if (bound !== undefined && !/^\d+$/.test(bound))
  cannotRun("--pending-bound-seconds must be a whole number of seconds");
const parsed = parseConfig(baseConfigSchema.pick({ DATABASE_URL: true }), process.env);
if (!parsed.ok) cannotRun(parsed.problems.join("; "));
const { db, close } = openDb({
  url: parsed.config.DATABASE_URL,
  poolSize: 1,
  applicationName: "billing-ledger-audit",
});
const started = performance.now();
const report = await auditLedger(db, bound === undefined ? {} : { pendingBoundSeconds: Number(bound) }).catch(
  async (err: unknown) => {
    await close().catch(() => {});
    const { type, code, message } = errorSummary(err);
    return cannotRun(`${type}${code ? ` ${code}` : ""}: ${message}`);
  },
);
await close().catch(() => {});
for (const check of report.checks) {
  console.log(
    `${check.violations === 0 ? "ok  " : "FAIL"}  ${check.name}${check.violations ? ` (${check.violations})` : ""}`,
  );
  for (const row of check.sample) console.log(`        ${JSON.stringify(row)}`);
}
console.log(`ledger:audit: ${report.ok ? "PASS" : "FAIL"} in ${Math.round(performance.now() - started)} ms`);
process.exit(report.ok ? 0 : 1);
