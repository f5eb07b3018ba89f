import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { apiConfigSchema, migrateConfigSchema, workerConfigSchema } from "../../shared/config.ts";

/** Every variable any process's configuration schema reads. */
const variables = new Set(
  [apiConfigSchema, workerConfigSchema, migrateConfigSchema].flatMap((s) => Object.keys(s.shape)),
);

/** Variable names in the first column of Markdown table rows: "| `NAME` | …". */
function tableVariables(file: string): Set<string> {
  const names = [...readFileSync(file, "utf8").matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1]);
  return new Set(names.filter((n): n is string => n !== undefined));
}

describe.each(["README.md", "docs/design.md"])("%s's environment table", (file) => {
  it("names every variable of the config schemas, and nothing else", () => {
    expect([...tableVariables(file)].sort()).toEqual([...variables].sort());
  });
});
