import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIGURATION_FILE, configurationMarkdown } from "../../scripts/config-docs.ts";
import { apiConfigSchema, migrateConfigSchema, workerConfigSchema } from "../../shared/config.ts";

/** Every variable any process's configuration schema reads. */
const variables = new Set(
  [apiConfigSchema, workerConfigSchema, migrateConfigSchema].flatMap((s) => Object.keys(s.shape)),
);

/** Variable names in the first column of Markdown table rows: "| `NAME` | …". */
function tableVariables(text: string): string[] {
  return [...text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1] ?? "");
}

describe("docs/configuration.md, the one table of the environment", () => {
  it("is what `npm run docs:config` generates from the config schemas", () => {
    expect(readFileSync(CONFIGURATION_FILE, "utf8")).toBe(configurationMarkdown());
  });

  it("names every variable of the config schemas once", () => {
    expect(tableVariables(configurationMarkdown()).sort()).toEqual([...variables].sort());
  });

  it.each(["README.md", "docs/design.md", "docs/operations.md"])(
    "%s links to it instead of a table of its own",
    (file) => {
      const text = readFileSync(file, "utf8");
      expect(tableVariables(text)).toEqual([]);
      expect(text).toContain("configuration.md");
    },
  );
});

describe("the docs stay inside the repository", () => {
  it.each(["README.md", "docs/api.md", "docs/design.md", "docs/operations.md", "sdk/README.md"])(
    "%s links only to files that exist, and to no document beside the repository",
    (file) => {
      const text = readFileSync(file, "utf8");
      expect(text).not.toMatch(/\.\.\/shared\/|(?<![\w/])(API|ARCHITECTURE)\.md/);
      const base = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
      for (const [, target] of text.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)) {
        expect(existsSync(`${base}${target}`), `${file} → ${target}`).toBe(true);
      }
    },
  );

  it("the README is at most 250 lines and opens with what the system is", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme.split("\n").length).toBeLessThanOrEqual(250);
    expect(readme.split("\n\n")[1]).toMatch(/^A billing API for wallets/);
  });
});
