import { readFileSync } from "node:fs";
import { registerHooks } from "node:module";

/**
 * Loads drizzle-orm's own modules without Node's package look-up per module, which costs about a
 * second of CPU at every start of a process that uses the database (docs/operations.md,
 * "Start-up time").
 *
 * To tell whether a `.js` file is an ES module, Node's ESM loader looks up its package's
 * `package.json` (`getPackageScopeConfig`). That function (Node 24.21 and 26.10) copies the
 * package's fields with an object spread, which runs the lazy getter of `exports` and parses the
 * exports map anew on every call. drizzle-orm's map is 178 kB, and its entry points import some
 * 400 of its own files, each looked up that way. The hook answers those imports itself: a
 * relative import of a `.js` file, from a file of drizzle-orm to a file of drizzle-orm, is that
 * file, an ES module (the package says `"type": "module"` and has no other `package.json`).
 * Every other import goes to Node's resolution unchanged.
 *
 * Static imports are all resolved before any module runs, so an entry point imports this module
 * first and the rest of the program dynamically: api/main.ts, worker/main.ts, scripts/migrate.ts,
 * scripts/ledger-audit.ts, and vitest (as its setup file, vitest.config.ts).
 */

const PACKAGE = "drizzle-orm/";
const NODE_MODULES = "/node_modules/";

/** Whether a `file:` URL names a file of the drizzle-orm package itself (not of a package nested in it). */
function inDrizzle(url: URL): boolean {
  if (url.protocol !== "file:") return false;
  const at = url.pathname.lastIndexOf(NODE_MODULES);
  return at >= 0 && url.pathname.startsWith(PACKAGE, at + NODE_MODULES.length);
}

/**
 * What a relative import of drizzle-orm's own `.js` modules resolves to, as Node would resolve
 * it; `undefined` for every other import, which Node resolves itself.
 */
export function drizzleInternal(
  specifier: string,
  parentURL: string | undefined,
): { url: string; format: "module" } | undefined {
  if (parentURL === undefined || !specifier.endsWith(".js")) return undefined;
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  if (!inDrizzle(new URL(parentURL))) return undefined;
  const url = new URL(specifier, parentURL);
  return inDrizzle(url) ? { url: url.href, format: "module" } : undefined;
}

/** The installed drizzle-orm is an ES-module package (read once: its `type`, not its exports). */
function drizzleIsModulePackage(): boolean {
  const manifest = new URL("package.json", import.meta.resolve("drizzle-orm"));
  return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: string }).type === "module";
}

if (drizzleIsModulePackage()) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const internal = drizzleInternal(specifier, context.parentURL);
      return internal === undefined ? nextResolve(specifier, context) : { ...internal, shortCircuit: true };
    },
  });
}
