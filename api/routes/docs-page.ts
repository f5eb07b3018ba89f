import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `GET /docs`: the API reference (Scalar) rendering `/openapi.json`, with the renderer's script
 * served by this api from the installed `@scalar/api-reference` package (a devDependency pinned
 * to one exact version), so the page works on a machine without internet. `npm run build`
 * copies the one bundle file into `dist/` (scripts/copy-docs-bundle.ts): the production image
 * has no dev dependencies, and the package's own tree is about 290 MB for this one 4 MB file.
 */

/** Where the page loads the renderer from (this api; see ops-route.ts). */
export const DOCS_SCRIPT_PATH = "/docs/api-reference.js";

/** The standalone (UMD) bundle inside the package: it defines `window.Scalar`. */
const BUNDLE_IN_PACKAGE = "browser/standalone.js";
/** The copy `npm run build` makes, beside the compiled api (dist/vendor/…). */
export const BUNDLE_COPY = fileURLToPath(new URL("../../vendor/scalar-api-reference.js", import.meta.url));

/** The bundle file of the installed package (its `main` is dist/index.js, beside dist/browser/). */
export function installedBundlePath(): string {
  const main = createRequire(import.meta.url).resolve("@scalar/api-reference");
  return join(dirname(main), BUNDLE_IN_PACKAGE);
}

export interface DocsScript {
  body: Buffer;
  /** Subresource Integrity of `body` (sha384), so the page runs only the script it was built with. */
  integrity: string;
}

/** Reads the renderer's bundle: the build's copy when there is one, else the installed package's. */
export function loadDocsScript(): DocsScript {
  const body = readFileSync(existsSync(BUNDLE_COPY) ? BUNDLE_COPY : installedBundlePath());
  return { body, integrity: `sha384-${createHash("sha384").update(body).digest("base64")}` };
}

/** One operation of the document, for the page's fallback list. */
export interface DocsOperation {
  method: string;
  path: string;
  summary: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * The page. Without script (or when the renderer's script did not load), it still reads as a
 * page: the title, a link to the document, and every operation as plain text; once the renderer
 * has started, that fallback is removed.
 * Fonts come from the system (`withDefaultFonts: false`: Scalar's default fetches them from
 * the internet).
 */
export function docsPageHtml(opts: {
  title: string;
  integrity: string;
  operations: readonly DocsOperation[];
}): string {
  const title = escapeHtml(opts.title);
  const items = opts.operations
    .map((o) => `<li><code>${o.method} ${escapeHtml(o.path)}</code> ${escapeHtml(o.summary)}</li>`)
    .join("\n        ");
  const config = JSON.stringify({ url: "/openapi.json", withDefaultFonts: false, defaultOpenAllTags: true });
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="icon" href="data:," />
    <title>${title}</title>
  </head>
  <body>
    <main id="fallback" style="font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto">
      <h1>${title}</h1>
      <p>The OpenAPI 3.1 document: <a href="/openapi.json">/openapi.json</a>.</p>
      <noscript><p>This page renders it interactively with JavaScript; without it, here are the operations.</p></noscript>
      <ul>
        ${items}
      </ul>
    </main>
    <div id="app"></div>
    <script src="${DOCS_SCRIPT_PATH}" integrity="${opts.integrity}"></script>
    <script>
      // The fallback goes only once the renderer has started: if its script failed, it stays.
      Scalar.createApiReference("#app", ${config});
      document.getElementById("fallback").remove();
    </script>
  </body>
</html>
`;
}
