import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drizzleInternal } from "../../shared/module-resolution.ts";

const ROOT = join(import.meta.dirname, "../..");
const DRIZZLE = `file://${ROOT}/node_modules/drizzle-orm/`;

/**
 * Node's resolution of drizzle-orm's own imports, counted in a fresh process, with and without
 * the hook: a counting hook registered first sees only what the later hook passes on.
 */
function drizzleImportsReachingNode(withHook: boolean): { count: number; loaded: boolean } {
  const script = `
    import { registerHooks } from "node:module";
    let count = 0;
    registerHooks({
      resolve(specifier, context, next) {
        if (context.parentURL?.includes("/node_modules/drizzle-orm/") && specifier.startsWith(".")) count++;
        return next(specifier, context);
      },
    });
    ${withHook ? `await import(${JSON.stringify(join(ROOT, "shared/module-resolution.ts"))});` : ""}
    const pg = await import("drizzle-orm/node-postgres");
    const core = await import("drizzle-orm/pg-core");
    console.log(JSON.stringify({ count, loaded: typeof pg.drizzle === "function" && typeof core.pgTable === "function" }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return JSON.parse(out) as { count: number; loaded: boolean };
}

describe("loading drizzle-orm (shared/module-resolution.ts)", () => {
  it("answers drizzle-orm's relative imports of its own .js files, as ES modules", () => {
    expect(drizzleInternal("./column.js", `${DRIZZLE}pg-core/table.js`)).toEqual({
      url: `${DRIZZLE}pg-core/column.js`,
      format: "module",
    });
    expect(drizzleInternal("../../sql/sql.js", `${DRIZZLE}pg-core/columns/common.js`)).toEqual({
      url: `${DRIZZLE}sql/sql.js`,
      format: "module",
    });
  });

  it("leaves every other import to Node", () => {
    const inside = `${DRIZZLE}pg-core/table.js`;
    expect(drizzleInternal("pg", inside)).toBeUndefined(); // a package
    expect(drizzleInternal("./column.cjs", inside)).toBeUndefined(); // not .js
    expect(drizzleInternal("./column", inside)).toBeUndefined(); // no extension
    expect(drizzleInternal("../../pg/lib/index.js", inside)).toBeUndefined(); // out of the package
    expect(drizzleInternal("./schema.js", `file://${ROOT}/shared/db/client.ts`)).toBeUndefined(); // ours
    expect(drizzleInternal("./x.js", `${DRIZZLE}node_modules/other/index.js`)).toBeUndefined(); // nested package
    expect(drizzleInternal("./x.js", undefined)).toBeUndefined(); // an entry point
  });

  it("relies on what the installed drizzle-orm is: one package.json, of an ES-module package", () => {
    const manifests = (
      readdirSync(join(ROOT, "node_modules/drizzle-orm"), { recursive: true }) as string[]
    ).filter((file) => file === "package.json" || file.endsWith("/package.json"));
    expect(manifests).toEqual(["package.json"]);
    const manifest = JSON.parse(readFileSync(join(ROOT, "node_modules/drizzle-orm/package.json"), "utf8"));
    expect(manifest.type).toBe("module");
  });

  it("takes drizzle-orm's own imports away from Node's resolution, and drizzle-orm still loads", () => {
    const without = drizzleImportsReachingNode(false);
    const withHook = drizzleImportsReachingNode(true);
    expect(without.loaded).toBe(true);
    expect(without.count).toBeGreaterThan(100);
    expect(withHook.loaded).toBe(true);
    expect(withHook.count).toBe(0);
  }, 60_000); // two processes loading drizzle-orm, one of them the slow way
});
