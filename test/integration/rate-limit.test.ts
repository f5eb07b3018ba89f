import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, newClient, newWallet } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { operationsWithKey } from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/** The RateLimit field: `"per-client";r=<remaining>;t=<seconds>`. */
const RATE_LIMIT = /^"per-client";r=(\d+);t=(\d+)$/;
const remaining = (h: Headers): number => Number(RATE_LIMIT.exec(h.get("ratelimit") ?? "")?.[1]);

const cluster = clusterForFile();

describe.each(REDIS_MODES)("rate limit ($name)", (mode) => {
  let system: TestSystem;

  beforeAll(async () => {
    // Five requests per client per hour: the window never rolls over during the test.
    system = await startSystem({
      partitions: 2,
      apiSettings: { RATE_LIMIT_REQUESTS: "5", RATE_LIMIT_WINDOW_SECONDS: "3600" },
      ...(await cluster.options(mode)),
    });
  });
  afterAll(async () => system?.stop());

  describe("per-client rate limit (RATE_LIMIT_REQUESTS=5 per 3600 s)", () => {
    it("every answer carries RateLimit-Policy and RateLimit; the sixth request is 429 with Retry-After", async () => {
      const api = await newClient(system, "a");
      const wallet = await newWallet(api); // 1
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await api.get(`/v1/wallets/${wallet}`); // 2..5
        expect(r.status).toBe(200);
        expect(r.headers.get("ratelimit-policy")).toBe('"per-client";q=5;w=3600');
        expect(r.headers.get("ratelimit")).toMatch(RATE_LIMIT);
        seen.push(remaining(r.headers));
      }
      expect(seen).toEqual([3, 2, 1, 0]);

      const refused = await api.get(`/v1/wallets/${wallet}`);
      expectProblem(refused, "rate_limited");
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(remaining(refused.headers)).toBe(0);
      expect(Number(RATE_LIMIT.exec(refused.headers.get("ratelimit") ?? "")?.[2])).toBe(retryAfter);

      // A money request over the limit creates nothing.
      expectProblem(await api.topUp(wallet, 100, "limited"), "rate_limited");
      expect(await operationsWithKey(system, "limited")).toBe(0);
      const samples = await scrape(`${system.baseUrl}/metrics`);
      expect(sampleValue(samples, "billing_requests_refused_total", { reason: "rate_limited" })).toBe(2);
    });

    it("a key that matches no client is 401 with no RateLimit fields: no quota was counted", async () => {
      const r = await new Api(system, "sk_matches_nothing").get("/v1/wallets");
      expectProblem(r, "unauthorized");
      expect(r.headers.get("ratelimit")).toBeNull();
      expect(r.headers.get("ratelimit-policy")).toBeNull();
    });

    it("a bulk of n items counts n: one that does not fit is 429 as a whole, nothing created", async () => {
      const api = await newClient(system, "bulk");
      const wallet = await newWallet(api); // 1
      const item = (k: string) => ({ type: "top_up", idempotencyKey: k, walletId: wallet, amount: 1 });
      const fits = await api.post("/v1/operations/bulk", { operations: [item("rl-1"), item("rl-2")] }); // 2, 3
      expect(fits.status).toBe(200);
      expect(remaining(fits.headers)).toBe(2);
      const over = await api.post("/v1/operations/bulk", {
        operations: [item("rl-3"), item("rl-4"), item("rl-5")],
      });
      expectProblem(over, "rate_limited");
      expect(await operationsWithKey(system, "rl-3")).toBe(0);
      expect(await operationsWithKey(system, "rl-1")).toBe(1);
    });

    it("is per client: another client still has its whole quota", async () => {
      const other = await newClient(system, "b");
      const r = await other.get("/v1/wallets");
      expect(r.status).toBe(200);
      expect(remaining(r.headers)).toBe(4);
    });

    it("a burst of one client, counted with one Redis call per turn, is shared out as if each asked alone", async () => {
      const api = await newClient(system, "burst");
      const answers = await Promise.all(Array.from({ length: 9 }, () => api.get("/v1/wallets")));
      const ok = answers.filter((r) => r.status === 200);
      expect(ok).toHaveLength(5);
      expect(ok.map((r) => remaining(r.headers)).sort()).toEqual([0, 1, 2, 3, 4]);
      for (const r of answers.filter((x) => x.status !== 200)) {
        expectProblem(r, "rate_limited");
        expect(remaining(r.headers)).toBe(0);
      }
      // The window was counted in Redis, not only in this process: one more is refused.
      expectProblem(await api.get("/v1/wallets"), "rate_limited");
    });

    it("is shared by every api process of the deployment (counted in Redis)", async () => {
      const extra = await system.startExtraApi();
      const api = await newClient(system, "c");
      const onExtra = new Api({ ...system, baseUrl: extra.baseUrl }, api.key);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await (i % 2 ? onExtra : api).get("/v1/wallets")).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      expectProblem(await onExtra.get("/v1/wallets"), "rate_limited");
    });

    it("does not apply to the operations endpoints", async () => {
      for (let i = 0; i < 7; i++) expect((await fetch(`${system.baseUrl}/healthz`)).status).toBe(200);
    });
  });
});
