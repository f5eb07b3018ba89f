import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeRegistry } from "../../api/openapi/route-registry.ts";
import { installedBundlePath } from "../../api/routes/docs-page.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;
let worker: SpawnedWorker;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

beforeAll(async () => {
  system = await startSystem({ partitions: 4 });
  worker = await system.spawnWorker();
  api = await newClient(system);
  // A short flow: a top-up that succeeds, a transfer that fails, reads, a long poll, a 404.
  const a = await newWallet(api);
  const b = await newWallet(api);
  await api.settle((await api.topUp(a, 1_000)).body.id);
  const failed = await api.settle((await api.transfer(a, b, 5_000)).body.id);
  expect(failed.failure.code).toBe("insufficient_funds");
  expect((await api.get(`/v1/wallets/${a}`)).status).toBe(200);
  expect((await api.get(`/v1/wallets/${crypto.randomUUID()}`)).status).toBe(404);
});
afterAll(async () => system?.stop());

describe("GET /healthz and /readyz", () => {
  it("/healthz: 200 while the process runs, no auth", async () => {
    const r = await fetch(`${system.baseUrl}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok" });
    expect(r.headers.get("x-request-id")).toMatch(/\S/);
  });

  it("/readyz: 200 naming both dependencies ok, no auth", async () => {
    const r = await fetch(`${system.baseUrl}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok", checks: { postgres: "ok", redis: "ok" } });
  });

  it("ops endpoints are not rate limited and carry no RateLimit fields", async () => {
    const r = await fetch(`${system.baseUrl}/healthz`);
    expect(r.headers.get("ratelimit")).toBeNull();
  });
});

describe("GET /metrics (api)", () => {
  it("counts accepted operations by type and HTTP requests by route template and status", async () => {
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_operations_accepted_total", { type: "top_up" })).toBe(1);
    expect(sampleValue(samples, "billing_operations_accepted_total", { type: "transfer" })).toBe(1);
    const count = (method: string, route: string, status: string) =>
      sampleValue(samples, "billing_http_request_duration_seconds_count", { method, route, status });
    expect(count("POST", "/v1/top-ups", "202")).toBe(1);
    expect(count("POST", "/v1/transfers", "202")).toBe(1);
    expect(count("POST", "/v1/wallets", "201")).toBe(2);
    expect(count("GET", "/v1/wallets/:id", "200")).toBe(1);
    expect(count("GET", "/v1/wallets/:id", "404")).toBe(1);
    expect(count("GET", "/v1/operations/:id", "200")).toBeGreaterThanOrEqual(2);
    expect(
      sampleValue(samples, "billing_http_request_duration_seconds_bucket", { le: "+Inf" }),
    ).toBeDefined();
  });

  it("samples the backlog of every partition and reports in-flight accepts", async () => {
    // Sampled every 250 ms: the settled operations leave the gauge at the next sample.
    const backlog = async () => {
      const samples = await scrape(`${system.baseUrl}/metrics`);
      return Array.from({ length: system.partitions }, (_, p) =>
        sampleValue(samples, "billing_backlog_operations", { partition: String(p) }),
      );
    };
    await expect.poll(backlog, { timeout: 10_000 }).toEqual(new Array(system.partitions).fill(0));
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_accepts_in_flight")).toBe(0);
    expect(sampleValue(samples, "billing_ready")).toBe(1);
  });

  it("has the process metrics, and no label value is an id", async () => {
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sampleValue(samples, "nodejs_eventloop_lag_seconds")).toBeDefined();
    const ids = samples.filter((s) => Object.values(s.labels).some((v) => UUID.test(v)));
    expect(ids).toEqual([]);
  });
});

describe("GET /metrics (worker, on its own METRICS_PORT)", () => {
  const workerUrl = () => `http://127.0.0.1:${worker.metricsPort}`;

  it("counts applied and failed operations by type and code, by batch", async () => {
    const samples = await scrape(`${workerUrl()}/metrics`);
    expect(sampleValue(samples, "billing_operations_applied_total", { type: "top_up" })).toBe(1);
    expect(
      sampleValue(samples, "billing_operations_failed_total", {
        type: "transfer",
        code: "insufficient_funds",
      }),
    ).toBe(1);
    expect(sampleValue(samples, "billing_operation_completion_seconds_count")).toBe(2);
    expect(sampleValue(samples, "billing_batch_size_count")).toBe(2);
    expect(sampleValue(samples, "billing_batch_size_sum")).toBe(2);
    expect(sampleValue(samples, "billing_batch_duration_seconds_count")).toBe(2);
    expect(sampleValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    const ids = samples.filter((s) => Object.values(s.labels).some((v) => UUID.test(v)));
    expect(ids).toEqual([]);
  });

  it("declares the webhook delivery metrics (counted in webhooks.delivery.test.ts)", async () => {
    const text = await (await fetch(`${workerUrl()}/metrics`)).text();
    expect(text).toContain("# TYPE billing_webhook_attempts_total counter");
    expect(text).toContain("# TYPE billing_webhook_attempt_duration_seconds histogram");
    expect(text).toContain("# TYPE billing_webhook_deliveries_total counter");
  });

  it("serves /healthz and nothing else", async () => {
    const ok = await fetch(`${workerUrl()}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok" });
    expect((await fetch(`${workerUrl()}/v1/wallets`)).status).toBe(404);
  });
});

describe("GET /docs", () => {
  it("is an HTML page that renders /openapi.json with the Scalar script this api serves", async () => {
    const r = await fetch(`${system.baseUrl}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toContain('href="/openapi.json"');
    expect(html).toContain("Scalar.createApiReference");
    // Every script is this server's: nothing to load from the internet.
    const sources = [...html.matchAll(/<script[^>]* src="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(["/docs/api-reference.js"]);
    expect(html).not.toMatch(/https?:\/\//);

    const script = await fetch(`${system.baseUrl}/docs/api-reference.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const body = Buffer.from(await script.arrayBuffer());
    // The installed package's bundle, byte for byte, and the page's integrity attribute matches it.
    expect(body.equals(readFileSync(installedBundlePath()))).toBe(true);
    const integrity = `sha384-${createHash("sha384").update(body).digest("base64")}`;
    expect(html).toContain(`integrity="${integrity}"`);
  });

  it("reads without script: the title, the link to the document and every operation", async () => {
    const html = await (await fetch(`${system.baseUrl}/docs`)).text();
    const fallback = html.slice(html.indexOf('<main id="fallback"'), html.indexOf("</main>"));
    expect(fallback).toContain("<h1>Wallet billing API</h1>");
    for (const key of Object.keys(routeRegistry)) {
      const [method, path = ""] = key.split(" ");
      expect(fallback).toContain(`<code>${method} ${path.replace(/:(\w+)/g, "{$1}")}</code>`);
    }
  });

  it("pins the renderer to one exact version", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.devDependencies["@scalar/api-reference"]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
