import { createHash } from "node:crypto";
import { fail, SmokeError } from "./smoke-http.ts";

/**
 * `node scripts/compose-docs.ts` (scripts/compose-check.sh): the api image serves the reference
 * page offline. `GET /docs` (API_URL, default http://127.0.0.1:3000) loads no script but its own
 * `/docs/api-reference.js`, which the image serves from the build's copy of the pinned
 * `@scalar/api-reference` bundle (dist/vendor/; the image has no dev dependency), and whose
 * bytes match the page's integrity attribute.
 */
async function main(): Promise<void> {
  const url = (process.env.API_URL || "http://127.0.0.1:3000").replace(/\/$/, "");
  const page = await fetch(`${url}/docs`, { signal: AbortSignal.timeout(10_000) });
  const html = await page.text();
  if (page.status !== 200) fail(`GET /docs: ${page.status}`);
  const sources = [...html.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]);
  if (sources.join(" ") !== "/docs/api-reference.js") fail(`/docs loads scripts from ${sources.join(", ")}`);
  const script = await fetch(`${url}/docs/api-reference.js`, { signal: AbortSignal.timeout(10_000) });
  const body = Buffer.from(await script.arrayBuffer());
  if (script.status !== 200 || body.length < 100_000)
    fail(`GET /docs/api-reference.js: ${script.status}, ${body.length} bytes`);
  const integrity = `sha384-${createHash("sha384").update(body).digest("base64")}`;
  if (!html.includes(`integrity="${integrity}"`))
    fail("the page's integrity attribute does not match the script served");
  console.log(
    `docs: ${url}/docs loads only ${sources[0]} (${body.length} bytes, from the image), integrity matches`,
  );
}

try {
  await main();
} catch (err) {
  console.error(`compose-docs: ${err instanceof SmokeError ? err.message : String(err)}`);
  process.exitCode = 1;
}
