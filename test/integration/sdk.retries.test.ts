import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { Billing, BillingConnectionError } from "../../sdk/src/index.ts";
import { type FlakyProxy, startFlakyProxy } from "../helpers/flaky-proxy.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { operationsWithKey } from "../helpers/money.ts";
import { ADMIN_TOKEN, type SystemOptions, startSystem, type TestSystem } from "../helpers/system.ts";
import { freePort } from "../helpers/throwaway.ts";

/**
 * The client's retries against a real system: 429 and 503 are waited out after their
 * Retry-After, a lost answer is retried under the same Idempotency-Key (so the money moves once),
 * a refused connection is retried even for a POST without a key, and a lost answer of such a POST
 * is not (it would make a second wallet). Money is read back: balances, and rows per key.
 */

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function system(opts: SystemOptions): Promise<TestSystem> {
  const s = await startSystem({ partitions: 2, ...opts });
  cleanup.push(() => s.stop());
  return s;
}

/** A new client's API key. */
const newKey = async (s: TestSystem): Promise<string> =>
  (await new Billing({ apiKey: ADMIN_TOKEN, baseUrl: s.baseUrl }).clients.create({ name: "retries" })).apiKey;

/** A new client of `s`, reached at `baseUrl` (default the api's own address). */
const clientOf = async (s: TestSystem, baseUrl = s.baseUrl): Promise<Billing> =>
  new Billing({ apiKey: await newKey(s), baseUrl });

const refused = async (s: TestSystem, reason: string) =>
  sampleValue(await scrape(`${s.baseUrl}/metrics`), "billing_requests_refused_total", { reason }) ?? 0;

describe("429 rate_limited", () => {
  it("is waited out after Retry-After: every top-up is accepted once and the balance is their sum", async () => {
    // 5 requests per 1 s window: the wallet, six top-ups, their waits and reads take several windows.
    const s = await system({ apiSettings: { RATE_LIMIT_REQUESTS: "5", RATE_LIMIT_WINDOW_SECONDS: "1" } });
    await s.spawnWorker();
    const apiKey = await newKey(s);
    const billing = new Billing({ apiKey, baseUrl: s.baseUrl });
    const wallet = await billing.wallets.create();
    const accepted = [];
    for (let i = 1; i <= 6; i++)
      accepted.push(await billing.topUps.create({ walletId: wallet.id, amount: i }));
    expect(await refused(s, "rate_limited")).toBeGreaterThanOrEqual(1);
    expect(new Set(accepted.map((a) => a.operation.id)).size).toBe(6);
    for (const a of accepted) {
      expect(await operationsWithKey(s, a.idempotencyKey)).toBe(1);
      expect((await billing.operations.wait(a.operation.id)).status).toBe("succeeded");
    }
    expect((await billing.wallets.get(wallet.id)).balance).toBe(21);

    // Without retries, the 429 is the caller's: a BillingError with the problem's code.
    const impatient = new Billing({ apiKey, baseUrl: s.baseUrl, maxRetries: 0 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => impatient.wallets.get(wallet.id).catch((e: unknown) => e)),
    );
    expect(answers).toContainEqual(
      expect.objectContaining({ status: 429, code: "rate_limited", attempts: 1 }),
    );
  });
});

describe("503 overloaded", () => {
  it("is waited out: the top-up refused for backpressure is accepted once the backlog drains", async () => {
    // No worker yet, and a backlog bound of one pending operation.
    const s = await system({ apiSettings: { BACKPRESSURE_MAX_PENDING: "1" } });
    const billing = await clientOf(s);
    const wallet = await billing.wallets.create();
    const first = await billing.topUps.create({ walletId: wallet.id, amount: 1_000 });
    // The backlog is sampled every 250 ms.
    await new Promise((r) => setTimeout(r, 600));

    // Still pending at the deadline: wait() answers the current state.
    const started = Date.now();
    const pending = await billing.operations.wait(first.operation.id, { timeoutMs: 1_500 });
    expect(pending.status).toBe("pending");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);

    const key = randomUUID();
    // Retries enough for a worker process to start on a busy machine (Retry-After is 2 s).
    const second = billing.topUps.create(
      { walletId: wallet.id, amount: 234 },
      { idempotencyKey: key, maxRetries: 15 },
    );
    setTimeout(() => void s.spawnWorker(), 1_000);
    const accepted = await second;
    expect(await refused(s, "backlog")).toBeGreaterThanOrEqual(1);
    expect(await operationsWithKey(s, key)).toBe(1);
    expect((await billing.operations.wait(accepted.operation.id, { timeoutMs: 20_000 })).status).toBe(
      "succeeded",
    );
    expect((await billing.operations.wait(first.operation.id)).status).toBe("succeeded");
    expect((await billing.wallets.get(wallet.id)).balance).toBe(1_234);
  });
});

describe("connection errors", () => {
  let proxy: FlakyProxy;

  /** A system with a worker, the client reaching its api through `proxy`, and one wallet. */
  async function behindFlakyProxy() {
    const s = await system({});
    await s.spawnWorker();
    proxy = await startFlakyProxy(Number(new URL(s.baseUrl).port));
    cleanup.push(() => proxy.close());
    const billing = await clientOf(s, proxy.url);
    return { s, billing, wallet: await billing.wallets.create() };
  }

  it("a lost answer to a top-up is retried under the same key: one operation, the money once", async () => {
    const { s, billing, wallet } = await behindFlakyProxy();

    proxy.loseNextAnswer();
    const accepted = await billing.topUps.create({ walletId: wallet.id, amount: 777 });
    expect(proxy.lost()).toBe(1);
    // The first attempt was accepted; the retry answered it again.
    expect(accepted.replayed).toBe(true);
    expect(await operationsWithKey(s, accepted.idempotencyKey)).toBe(1);
    expect((await billing.operations.wait(accepted.operation.id)).status).toBe("succeeded");
    expect((await billing.wallets.get(wallet.id)).balance).toBe(777);
  });

  it("a lost answer to a bulk is retried whole: every item replayed, the money moved once", async () => {
    const { s, billing, wallet } = await behindFlakyProxy();

    proxy.loseNextAnswer();
    const { results } = await billing.operations.bulk(
      Array.from({ length: 5 }, () => ({ type: "top_up" as const, walletId: wallet.id, amount: 100 })),
    );
    expect(proxy.lost()).toBe(1);
    expect(results.map((r) => r.status === 202 && r.replayed)).toEqual(Array(5).fill(true));
    for (const r of results) expect(await operationsWithKey(s, r.idempotencyKey)).toBe(1);
    for (const r of results) if (r.status === 202) await billing.operations.wait(r.operation.id);
    expect((await billing.wallets.get(wallet.id)).balance).toBe(500);
  });

  it("a POST without a key is retried when the connection was refused, not when its answer was lost", async () => {
    const s = await system({});
    const port = await freePort();
    const billing = await clientOf(s, `http://127.0.0.1:${port}`);
    const wallets = async () =>
      (await s.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM wallets WHERE kind = 'client'`))
        .rows[0]?.n;

    // Nothing listens yet: the first attempts are refused; the proxy opens 300 ms later.
    setTimeout(async () => {
      proxy = await startFlakyProxy(Number(new URL(s.baseUrl).port), port);
      cleanup.push(() => proxy.close());
    }, 300);
    const created = await billing.wallets.create({ metadata: { try: "refused" } });
    expect(created.metadata).toEqual({ try: "refused" });
    expect(await wallets()).toBe(1);

    proxy.loseNextAnswer();
    const lost = await billing.wallets.create({ metadata: { try: "lost" } }).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(BillingConnectionError);
    expect((lost as BillingConnectionError).attempts).toBe(1);
    // It was created: a retry would have made a second one.
    expect(await wallets()).toBe(2);
  });
});
