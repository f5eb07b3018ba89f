import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { installedBundlePath } from "../api/routes/docs-page.ts";

/**
 * Part of `npm run build`: copies the API reference's browser bundle from the installed
 * `@scalar/api-reference` (a devDependency) to `dist/vendor/`, where the compiled api serves it
 * from (api/routes/docs-page.ts), so that the production image, which has no dev dependencies,
 * serves `/docs` without the internet.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "dist", "vendor", "scalar-api-reference.js");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(installedBundlePath(), target);
