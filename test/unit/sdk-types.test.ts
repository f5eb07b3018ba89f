import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GENERATED_FILE, generateTypes } from "../../sdk/scripts/generate-types.ts";

/**
 * The client's types are generated from the OpenAPI document and committed: when a route or a
 * schema changes, this fails until `npm run sdk:generate` is run and its output committed.
 */
describe("sdk/src/generated/openapi.ts", () => {
  it("is what openapi-typescript generates from the current document", async () => {
    const committed = readFileSync(GENERATED_FILE, "utf8");
    const fresh = await generateTypes();
    expect(
      committed === fresh,
      "stale: run `npm run sdk:generate` and commit sdk/src/generated/openapi.ts",
    ).toBe(true);
  });

  it("names every operation by its operationId", async () => {
    const text = readFileSync(GENERATED_FILE, "utf8");
    for (const id of ["createTopUp", "createTransfer", "getOperation", "listWalletEntries", "createWallet"]) {
      expect(text).toContain(`: operations["${id}"];`);
    }
  });
});
