import { describe, expect, it } from "vitest";
import { lintOpenApi } from "../../scripts/openapi-lint.ts";
import { readRepoFile } from "./packaging-files.ts";

/**
 * The generated OpenAPI document passes `redocly lint` (recommended) and `spectral lint`
 * (spectral:oas) with no error and no warning, as generators and linters of client developers
 * would read it; what is waived is waived in a configuration file, each waiver with its reason.
 */

describe("the OpenAPI document, linted", () => {
  it.each(lintOpenApi())("$tool finds nothing", (result) => {
    expect(result.ok, result.report).toBe(true);
  });
});

/** Lines that waive something: a rule turned off, or an ignore file's rule with its operations. */
const WAIVERS: [file: string, waiver: RegExp][] = [
  ["redocly.yaml", /^\s+[\w.-]+: off\s*$/],
  [".spectral.yaml", /^\s+[\w.-]+: off\s*$/],
  [".redocly.lint-ignore.yaml", /^\s+[\w.-]+:\s*$/],
];

describe.each(WAIVERS)("%s", (file, waiver) => {
  it("gives a reason (a comment just above) for each waiver", () => {
    const lines = readRepoFile(file).split("\n");
    const waivers = lines.flatMap((line, i) => (waiver.test(line) ? [i] : []));
    for (const i of waivers) {
      expect(
        lines[i - 1]?.trim().startsWith("#"),
        `${file}:${i + 1} ${lines[i]} has no reason above it`,
      ).toBe(true);
    }
    if (file === ".redocly.lint-ignore.yaml") expect(waivers.length).toBeGreaterThan(0);
  });
});
