import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Billing, BillingError, type Entry, type Operation, verifyWebhook } from "../../sdk/src/index.ts";
import { moneySnapshot, operationsWithKey } from "../helpers/money.ts";
import { ADMIN_TOKEN, startSystem, type TestSystem } from "../helpers/system.ts";
import { type Receiver, startReceiver, until } from "../helpers/webhooks.ts";

/**
 * The TypeScript client (sdk/) against a real system (api, a worker process, Postgres, Redis):
 * money moved through it is asserted in balances and entries, its lists follow every page, its
 * errors carry the problem body, and `verifyWebhook` accepts the system's real deliveries.
 */

let system: TestSystem;
let billing: Billing;
let receiver: Receiver;

beforeAll(async () => {
  const allowPrivate = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" };
  system = await startSystem({ partitions: 2, apiSettings: allowPrivate, workerSettings: allowPrivate });
  await system.spawnWorker();
  const operator = new Billing({ apiKey: ADMIN_TOKEN, baseUrl: system.baseUrl });
  const client = await operator.clients.create({ name: "sdk" });
  expect(client.apiKey).toMatch(/^sk_/);
  billing = new Billing({ apiKey: client.apiKey, baseUrl: system.baseUrl });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await system?.stop();
});

/** Every item of an async iterable. */
async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("payouts, holds, bulk and balances through the client", () => {
  it("a payout, a hold captured in part, a void, a capture after it refused; a mixed bulk; the balance at an instant", async () => {
    const a = await billing.wallets.create();
    const b = await billing.wallets.create();
    await billing.operations.wait(
      (await billing.topUps.create({ walletId: a.id, amount: 1_000 })).operation.id,
    );
    const afterTopUp = new Date();

    const payout = await billing.payouts.create({ walletId: a.id, amount: 100 });
    expect((await billing.operations.wait(payout.operation.id)).status).toBe("succeeded");

    const hold = await billing.holds.create({ fromWalletId: a.id, toWalletId: b.id, amount: 300 });
    const placed = await billing.operations.wait(hold.operation.id);
    expect(placed.hold).toMatchObject({ status: "active" });
    expect(await billing.wallets.get(a.id)).toMatchObject({
      balance: 900,
      heldBalance: 300,
      availableBalance: 600,
    });
    const capture = await billing.holds.capture(hold.operation.id, { amount: 120 });
    expect((await billing.operations.wait(capture.operation.id)).status).toBe("succeeded");
    expect((await billing.operations.get(hold.operation.id)).hold).toMatchObject({
      status: "captured",
      capturedAmount: 120,
    });

    const refund = await billing.refunds.create({ operationId: capture.operation.id, amount: 20 });
    expect(await billing.operations.wait(refund.operation.id)).toMatchObject({
      status: "succeeded",
      type: "refund",
      refundOf: capture.operation.id,
      fromWalletId: b.id,
      toWalletId: a.id,
    });
    expect((await billing.operations.get(capture.operation.id)).refundedAmount).toBe(20);
    await expect(
      billing.refunds.create({ operationId: capture.operation.id, amount: 121 }),
    ).rejects.toMatchObject({ code: "amount_exceeds_refundable", status: 422 });

    const second = await billing.holds.create({ fromWalletId: a.id, toWalletId: b.id, amount: 50 });
    const voided = await billing.holds.void(second.operation.id);
    expect((await billing.operations.wait(voided.operation.id)).status).toBe("succeeded");
    const late = await billing.holds.capture(second.operation.id);
    expect((await billing.operations.wait(late.operation.id)).failure?.code).toBe("hold_not_active");
    await expect(billing.holds.capture(hold.operation.id, { amount: 301 })).rejects.toMatchObject({
      code: "amount_exceeds_hold",
      status: 422,
    });

    const { results } = await billing.operations.bulk([
      { type: "top_up", walletId: b.id, amount: 10, idempotencyKey: "sdk-bulk-1" },
      { type: "top_up", walletId: b.id, amount: 10, idempotencyKey: "sdk-bulk-1" },
      { type: "top_up", walletId: b.id, amount: 11, idempotencyKey: "sdk-bulk-1" },
      { type: "transfer", fromWalletId: b.id, toWalletId: a.id, amount: 5 },
    ]);
    expect(results.map((r) => (r.status === 202 ? (r.replayed ? "replay" : "new") : r.error.code))).toEqual([
      "new",
      "replay",
      "idempotency_key_reused",
      "new",
    ]);
    expect(results[3]?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    for (const r of results) if (r.status === 202) await billing.operations.wait(r.operation.id);
    expect(await billing.wallets.get(a.id)).toMatchObject({ balance: 900 - 120 + 20 + 5, heldBalance: 0 });
    expect(await billing.wallets.get(b.id)).toMatchObject({ balance: 120 - 20 + 10 - 5 });
    expect(await billing.wallets.balanceAt(a.id, afterTopUp)).toMatchObject({ balance: 1_000, version: 1 });
  });
});

describe("money through the client", () => {
  it("top-up, transfer, replay, wait: balances and entries are exactly the money moved", async () => {
    const alice = await billing.wallets.create({ metadata: { name: "alice" } });
    const bob = await billing.wallets.create({ currency: "USD" });
    expect(alice).toMatchObject({ balance: 0, currency: "USD", metadata: { name: "alice" } });

    const topUp = await billing.topUps.create({ walletId: alice.id, amount: 10_000 });
    expect(topUp.operation).toMatchObject({ type: "top_up", status: "pending", amount: 10_000 });
    expect(topUp.replayed).toBe(false);
    expect(topUp.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(topUp.requestId).not.toBe("");

    const key = `transfer-${randomUUID()}`;
    const body = { fromWalletId: alice.id, toWalletId: bob.id, amount: 2_550, metadata: { note: "lunch" } };
    const transfer = await billing.transfers.create(body, { idempotencyKey: key });
    const replay = await billing.transfers.create(body, { idempotencyKey: key });
    expect(transfer.idempotencyKey).toBe(key);
    expect(replay).toMatchObject({ replayed: true, idempotencyKey: key });
    expect(replay.operation.id).toBe(transfer.operation.id);
    expect(await operationsWithKey(system, key)).toBe(1);

    const done = await billing.operations.wait(transfer.operation.id, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ status: "succeeded", fromWalletId: alice.id, toWalletId: bob.id });
    expect((await billing.operations.get(topUp.operation.id)).status).toBe("succeeded");

    expect((await billing.wallets.get(alice.id)).balance).toBe(7_450);
    expect((await billing.wallets.get(bob.id)).balance).toBe(2_550);
    const entries = await all(billing.wallets.entries(alice.id));
    expect(entries.map((e: Entry) => [e.amount, e.balanceAfter])).toEqual([
      [-2_550, 7_450],
      [10_000, 10_000],
    ]);
    expect(entries.map((e) => e.operationId)).toEqual([transfer.operation.id, topUp.operation.id]);
  });

  it("a key generated per call: two calls with the same body are two operations", async () => {
    const w = await billing.wallets.create();
    const [a, b] = await Promise.all([
      billing.topUps.create({ walletId: w.id, amount: 100 }),
      billing.topUps.create({ walletId: w.id, amount: 100 }),
    ]);
    expect(a.idempotencyKey).not.toBe(b.idempotencyKey);
    expect(a.operation.id).not.toBe(b.operation.id);
    await billing.operations.wait(a.operation.id);
    await billing.operations.wait(b.operation.id);
    expect((await billing.wallets.get(w.id)).balance).toBe(200);
  });

  it("a transfer it cannot afford fails when applied, and moves nothing", async () => {
    const poor = await billing.wallets.create();
    const rich = await billing.wallets.create();
    const before = await moneySnapshot(system);
    const { operation } = await billing.transfers.create({
      fromWalletId: poor.id,
      toWalletId: rich.id,
      amount: 1,
    });
    const failed = await billing.operations.wait(operation.id);
    expect(failed.status).toBe("failed");
    expect(failed.failure?.code).toBe("insufficient_funds");
    const after = await moneySnapshot(system);
    expect(after.wallets).toEqual(before.wallets);
    expect(after.entries).toBe(before.entries);
  });
});

describe("lists follow nextCursor", () => {
  it("wallets, entries and operations: every item once, newest first, across pages", async () => {
    const w = await billing.wallets.create();
    const ops: Operation[] = [];
    for (let i = 1; i <= 5; i++)
      ops.push((await billing.topUps.create({ walletId: w.id, amount: i })).operation);
    for (const op of ops) await billing.operations.wait(op.id);

    const pages = await all(billing.operations.list({ walletId: w.id, limit: 2 }).pages());
    expect(pages.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    const listed = await all(billing.operations.list({ walletId: w.id, limit: 2 }));
    expect(listed.map((o) => o.id)).toEqual(ops.map((o) => o.id).reverse());
    const succeeded = await all(billing.operations.list({ walletId: w.id, status: "succeeded", limit: 3 }));
    expect(succeeded).toHaveLength(5);

    const entries = await all(billing.wallets.entries(w.id, { limit: 2 }));
    expect(entries.map((e) => e.amount)).toEqual([5, 4, 3, 2, 1]);
    expect(entries.map((e) => e.balanceAfter)).toEqual([15, 10, 6, 3, 1]);
    expect((await billing.wallets.get(w.id)).balance).toBe(15);

    const wallets = await all(billing.wallets.list({ limit: 3 }));
    expect(new Set(wallets.map((x) => x.id)).size).toBe(wallets.length);
    expect(wallets[0]?.id).toBe((await all(billing.wallets.list({ limit: 1 }).pages()))[0]?.data[0]?.id);
    expect(wallets.map((x) => x.id)).toContain(w.id);
  });
});

describe("errors carry the problem body", () => {
  it("wallet_not_found, validation_error with its fields, idempotency_key_reused, currency_mismatch", async () => {
    const notFound = await billing.wallets.get(randomUUID()).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(BillingError);
    expect(notFound).toMatchObject({ status: 404, code: "wallet_not_found", attempts: 1 });
    expect((notFound as BillingError).requestId).toMatch(/\S/);
    expect((notFound as BillingError).problem.requestId).toBe((notFound as BillingError).requestId);

    const w = await billing.wallets.create();
    const before = await moneySnapshot(system);
    const invalid = await billing.topUps.create({ walletId: w.id, amount: 0 }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: "validation_error" });
    expect((invalid as BillingError).errors.map((e) => e.path)).toEqual(["body.amount"]);

    const key = randomUUID();
    await billing.topUps.create({ walletId: w.id, amount: 5 }, { idempotencyKey: key });
    const reused = await billing.topUps
      .create({ walletId: w.id, amount: 6 }, { idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(reused).toMatchObject({ status: 422, code: "idempotency_key_reused" });
    const eur = await billing.wallets.create({ currency: "EUR" });
    const mismatch = await billing.transfers
      .create({ fromWalletId: w.id, toWalletId: eur.id, amount: 1 })
      .catch((e: unknown) => e);
    expect(mismatch).toMatchObject({ status: 422, code: "currency_mismatch" });
    // Only the one top-up under `key` was created.
    expect((await moneySnapshot(system)).operations).toBe(before.operations + 1);
  });
});

describe("webhooks", () => {
  it("endpoints are managed through the client, and verifyWebhook accepts the real deliveries", async () => {
    const endpoint = await billing.webhookEndpoints.create({ url: receiver.url });
    receiver.secret = endpoint.secret;
    expect((await all(billing.webhookEndpoints.list())).map((e) => e.id)).toContain(endpoint.id);

    const w = await billing.wallets.create();
    const other = await billing.wallets.create();
    const ok = await billing.topUps.create({ walletId: w.id, amount: 300 });
    const ko = await billing.transfers.create({ fromWalletId: other.id, toWalletId: w.id, amount: 1 });
    await until("two deliveries", () => receiver.received.length >= 2, 20_000);

    const events = receiver.received.map((r) => verifyWebhook(endpoint.secret, r.body, r.headers));
    const byId = new Map(events.map((e) => [e.data.id, e]));
    expect(byId.get(ok.operation.id)).toMatchObject({ type: "operation.succeeded", data: { amount: 300 } });
    expect(byId.get(ko.operation.id)).toMatchObject({
      type: "operation.failed",
      data: { failure: { code: "insufficient_funds" } },
    });
    // Raw bytes and fetch's Headers work too; a body changed by one byte does not verify.
    const first = receiver.received[0];
    if (!first) throw new Error("no delivery");
    const headers = new Headers(first.headers as Record<string, string>);
    expect(
      verifyWebhook(endpoint.secret, new TextEncoder().encode(first.body), headers).data.id,
    ).toBeDefined();
    expect(() => verifyWebhook(endpoint.secret, first.body.replace("}", " }"), first.headers)).toThrow();
    expect(() =>
      verifyWebhook(`whsec_${Buffer.alloc(32).toString("base64")}`, first.body, first.headers),
    ).toThrow();

    const deliveries = await all(billing.webhookEndpoints.deliveries(endpoint.id, { limit: 1 }));
    expect(deliveries.map((d) => d.operationId).sort()).toEqual([ok.operation.id, ko.operation.id].sort());

    await billing.webhookEndpoints.delete(endpoint.id);
    expect((await all(billing.webhookEndpoints.list())).map((e) => e.id)).not.toContain(endpoint.id);
    // A second delete is the caller's mistake, not a retry: it is reported.
    await expect(billing.webhookEndpoints.delete(endpoint.id)).rejects.toMatchObject({ code: "not_found" });
  });
});
