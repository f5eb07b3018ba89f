import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRegistry } from "../../api/openapi/route-registry.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * `/docs` in a real browser (Debian's Chromium, driven by playwright-core) on a machine cut off
 * from the internet: every host name but 127.0.0.1 fails to resolve, so a page that needs a CDN
 * shows nothing. The rendered reference must list the API's operations; with JavaScript off, the
 * page must still give the title, the link to the document and the operations.
 */

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  // The network cut: no name resolves, except the api's own address.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

let system: TestSystem;
const profiles: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run installs it)`,
    );
  }
  system = await startSystem({ partitions: 2 });
});
afterAll(async () => {
  await system?.stop();
  for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
});

/** A browser with a fresh, empty profile. */
async function browser(javaScriptEnabled: boolean): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), "docs-browser-"));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled,
  });
}

const summaries = Object.values(routeRegistry).map((op) => op.summary ?? "");

/** The text a reader sees (rendered: hidden elements left out), not the DOM's text content. */
const visibleText = (page: Page, selector: string): Promise<string> =>
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's rendered text is the point here
  page.locator(selector).innerText();

describe("GET /docs in Chromium, without internet", () => {
  it("renders the reference, which lists every operation; every request stays on this host", async () => {
    const context = await browser(true);
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const answer = await page.goto(`${system.baseUrl}/docs`);
      expect(answer?.status()).toBe(200);
      // The page removes its fallback list once the renderer has started.
      await page.waitForSelector("#fallback", { state: "detached", timeout: 30_000 });
      await page.getByText("Transfer between wallets").first().waitFor({ timeout: 30_000 });
      const text = await visibleText(page, "body");
      for (const summary of summaries) expect(text, summary).toContain(summary);
      expect(errors).toEqual([]);
      const local = new URL(system.baseUrl).host;
      expect(requested.filter((u) => !u.startsWith("data:") && new URL(u).host !== local)).toEqual([]);
      expect(requested).toContain(`${system.baseUrl}/openapi.json`);
    } finally {
      await context.close();
    }
  });

  it("without JavaScript: the title, a link to /openapi.json and the operations", async () => {
    const context = await browser(false);
    try {
      const page = await context.newPage();
      await page.goto(`${system.baseUrl}/docs`);
      expect(await visibleText(page, "h1")).toBe("Wallet billing API");
      expect(await page.getByRole("link", { name: "/openapi.json" }).getAttribute("href")).toBe(
        "/openapi.json",
      );
      const text = await visibleText(page, "body");
      for (const summary of summaries) expect(text, summary).toContain(summary);
    } finally {
      await context.close();
    }
  });
});
