import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createOpenApiDocument } from "../api/openapi/openapi-document.ts";

/**
 * `npm run lint:openapi`: writes the OpenAPI document `GET /openapi.json` serves to
 * {@link OPENAPI_FILE} and lints it with `redocly lint` (recommended) and `spectral lint`
 * (spectral:oas). Any error or warning fails, unless a configuration file waives it with a
 * reason: redocly.yaml, .redocly.lint-ignore.yaml, .spectral.yaml. test/unit/openapi-lint.test.ts
 * runs the same, so `npm test` fails too.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Relative to the repository: the path .redocly.lint-ignore.yaml names. */
export const OPENAPI_FILE = "dist/openapi/openapi.json";

export interface LintResult {
  tool: "redocly" | "spectral";
  ok: boolean;
  /** What the tool found, for a human. */
  report: string;
}

/** Neither tool may phone home or nag: CI and developers' machines have no internet. */
const QUIET = {
  ...process.env,
  REDOCLY_TELEMETRY: "off",
  REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
  SCARF_ANALYTICS: "false",
  NO_COLOR: "1",
};

const run = (bin: string, args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "node_modules/.bin", bin), ...args], {
    cwd: ROOT,
    env: QUIET,
    encoding: "utf8",
    timeout: 60_000,
  });

/** Redocly exits 0 on warnings: its JSON report's totals decide. */
function redocly(): LintResult {
  const r = run("redocly", ["lint", OPENAPI_FILE, "--format=json"]);
  try {
    const out = JSON.parse(r.stdout) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
    };
    const lines = out.problems.map(
      (p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ""}: ${p.message}`,
    );
    const { errors, warnings, ignored } = out.totals;
    lines.push(
      `redocly: ${errors} errors, ${warnings} warnings, ${ignored} waived (.redocly.lint-ignore.yaml)`,
    );
    return { tool: "redocly", ok: r.status === 0 && errors + warnings === 0, report: lines.join("\n") };
  } catch {
    return {
      tool: "redocly",
      ok: false,
      report: `redocly lint failed (${r.status}): ${r.stderr}${r.stdout}`,
    };
  }
}

/** Spectral fails at the severity given: hint, the lowest, makes every finding fatal. */
function spectral(): LintResult {
  const r = run("spectral", ["lint", OPENAPI_FILE, "--ruleset", ".spectral.yaml", "--fail-severity=hint"]);
  return { tool: "spectral", ok: r.status === 0, report: `${r.stdout}${r.stderr}`.trim() };
}

/** Writes the document and runs both linters on it. */
export function lintOpenApi(): LintResult[] {
  const file = join(ROOT, OPENAPI_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(createOpenApiDocument(), null, 2)}\n`);
  return [redocly(), spectral()];
}

if (import.meta.main) {
  const results = lintOpenApi();
  for (const r of results) console.log(`== ${r.tool}: ${r.ok ? "clean" : "FAILED"}\n${r.report}\n`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}
