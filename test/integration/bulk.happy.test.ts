import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean, operationsWithKey } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * `POST /v1/operations/bulk` (docs/api.md, "Bulk submission"): each item its own operation through
 * the single routes' accept path, answered in order; same-wallet debits applied in array order;
 * idempotency shared with the single routes. The money is asserted.
 */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 2 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

const bulk = (operations: unknown[]) => api.post("/v1/operations/bulk", { operations });
const wallet = async (id: string) => (await api.get(`/v1/wallets/${id}`)).body;

describe("a bulk of every type", () => {
  it("accepts each item as its single route would; answers in order; the money moves as the items say", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);
    const hold = await api.settle((await api.hold(a, b, 100)).body.id);
    const r = await bulk([
      { type: "top_up", idempotencyKey: "b-1", walletId: b, amount: 50 },
      { type: "transfer", idempotencyKey: "b-2", fromWalletId: a, toWalletId: b, amount: 200 },
      { type: "payout", idempotencyKey: "b-3", walletId: a, amount: 10 },
      { type: "hold", idempotencyKey: "b-4", fromWalletId: a, toWalletId: b, amount: 30 },
      { type: "capture", idempotencyKey: "b-5", holdId: hold.id, amount: 60 },
      { type: "void", idempotencyKey: "b-6", holdId: hold.id },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.data.map((x: { status: number; replayed: boolean }) => [x.status, x.replayed])).toEqual(
      Array(6).fill([202, false]),
    );
    expect(r.body.data.map((x: { operation: { type: string } }) => x.operation.type)).toEqual([
      "top_up",
      "transfer",
      "payout",
      "hold",
      "capture",
      "void",
    ]);
    const ops = [];
    for (const x of r.body.data) ops.push(await api.settle(x.operation.id));
    // The void comes after the capture in the hold's order: the capture wins.
    expect(ops.map((o) => (o.failure ? o.failure.code : o.status))).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "hold_not_active",
    ]);
    expect(await wallet(a)).toMatchObject({ balance: 1_000 - 200 - 10 - 60, heldBalance: 30 });
    expect(await wallet(b)).toMatchObject({ balance: 50 + 200 + 60 });
    // Each item is an operation under its key, as a single request would be.
    for (const k of ["b-1", "b-2", "b-3", "b-4", "b-5", "b-6"])
      expect(await operationsWithKey(system, k)).toBe(1);
    await expectAuditClean(system);
  });

  it("a bulk of one item and the single request are indistinguishable in Postgres", async () => {
    const w = await newWallet(api);
    const single = await api.topUp(w, 7, "one-single");
    const viaBulk = await bulk([{ type: "top_up", idempotencyKey: "one-bulk", walletId: w, amount: 7 }]);
    await waitAllSettled(system);
    const rows = await system.db.execute<Record<string, unknown>>(sql`
      SELECT type, status, amount::text, currency, from_wallet_id, to_wallet_id, hold_id, expires_at, failure_code,
             metadata, partition, request_hash, client_id
      FROM operations WHERE idempotency_key IN ('one-single', 'one-bulk') ORDER BY seq`);
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows[1]).toEqual(rows.rows[0]);
    expect(viaBulk.body.data[0].operation).toMatchObject({
      ...single.body,
      id: expect.any(String),
      createdAt: expect.any(String),
    });
  });
});

describe("order and idempotency", () => {
  it("1,000 transfers from one wallet apply in array order (the balanceAfter sequence), with an insufficient-funds failure in the middle", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);
    // 999 transfers of 1 with one of 500 at index 400: it fails (only 600 left then), the rest succeed.
    const items = Array.from({ length: 1_000 }, (_, i) => ({
      type: "transfer",
      idempotencyKey: `order-${i}`,
      fromWalletId: a,
      toWalletId: b,
      amount: i === 400 ? 700 : 1,
    }));
    const r = await bulk(items);
    expect(r.status).toBe(200);
    expect(r.body.data.every((x: { status: number }) => x.status === 202)).toBe(true);
    const seqs = await system.db.execute<{ key: string; seq: string }>(
      sql`SELECT idempotency_key AS key, seq::text FROM operations WHERE idempotency_key LIKE 'order-%'`,
    );
    const seqOf = new Map(seqs.rows.map((row) => [row.key, BigInt(row.seq)]));
    for (let i = 1; i < 1_000; i++) {
      expect((seqOf.get(`order-${i}`) ?? 0n) > (seqOf.get(`order-${i - 1}`) ?? 0n)).toBe(true);
    }
    await waitAllSettled(system);
    const failed = await system.db.execute<{ key: string; code: string }>(sql`
      SELECT idempotency_key AS key, failure_code AS code FROM operations
      WHERE idempotency_key LIKE 'order-%' AND status = 'failed'`);
    expect(failed.rows).toEqual([{ key: "order-400", code: "insufficient_funds" }]);
    // A's entries, oldest first: the top-up, then 999 debits of 1 in array order.
    const entries = await system.db.execute<{ balance_after: string; key: string }>(sql`
      SELECT e.balance_after::text, o.idempotency_key AS key FROM entries e JOIN operations o ON o.id = e.operation_id
      WHERE e.wallet_id = ${a} ORDER BY e.wallet_version`);
    const debits = entries.rows.slice(1);
    expect(debits.map((e) => e.key)).toEqual(
      items.map((x) => x.idempotencyKey).filter((k) => k !== "order-400"),
    );
    expect(debits.map((e) => Number(e.balance_after))).toEqual(
      Array.from({ length: 999 }, (_, i) => 999 - i),
    );
    expect(await wallet(a)).toMatchObject({ balance: 1, version: 1_000 });
    expect(await wallet(b)).toMatchObject({ balance: 999 });
  });

  it("two items with one key: the first is the operation, the same body a replay, another body 422", async () => {
    const w = await newWallet(api);
    const r = await bulk([
      { type: "top_up", idempotencyKey: "dup", walletId: w, amount: 5 },
      { type: "top_up", idempotencyKey: "dup", walletId: w, amount: 5 },
      { type: "top_up", idempotencyKey: "dup", walletId: w, amount: 6 },
      // Another body whose own check would fail (no such wallet): the key's check comes first.
      { type: "top_up", idempotencyKey: "dup", walletId: "01900000-0000-7000-8000-000000000000", amount: 5 },
    ]);
    const [first, same, other, unknownWallet] = r.body.data;
    expect(unknownWallet).toMatchObject({ status: 422, error: { code: "idempotency_key_reused" } });
    expect(first).toMatchObject({ status: 202, replayed: false });
    expect(same).toMatchObject({ status: 202, replayed: true, operation: { id: first.operation.id } });
    expect(other).toMatchObject({ status: 422, error: { code: "idempotency_key_reused", status: 422 } });
    await waitAllSettled(system);
    expect(await wallet(w)).toMatchObject({ balance: 5, version: 1 });
    expect(await operationsWithKey(system, "dup")).toBe(1);
  });

  it("two items with one key, the first refused by its wallet: the second is the operation, in its array place", async () => {
    const w = await newWallet(api);
    const to = await newWallet(api);
    await api.settle((await api.topUp(w, 100)).body.id);
    const r = await bulk([
      {
        type: "transfer",
        idempotencyKey: "late",
        fromWalletId: "01900000-0000-7000-8000-000000000000",
        toWalletId: to,
        amount: 1,
      },
      { type: "transfer", idempotencyKey: "late", fromWalletId: w, toWalletId: to, amount: 60 },
      { type: "transfer", idempotencyKey: "after", fromWalletId: w, toWalletId: to, amount: 60 },
      { type: "transfer", idempotencyKey: "late", fromWalletId: w, toWalletId: to, amount: 60 },
    ]);
    const [refused, late, after, replay] = r.body.data;
    expect(refused).toMatchObject({ status: 404, error: { code: "wallet_not_found" } });
    expect(late).toMatchObject({ status: 202, replayed: false });
    expect(replay).toMatchObject({ status: 202, replayed: true, operation: { id: late.operation.id } });
    // Applied before the next item that debits the same wallet, as the array orders them: of the
    // two debits of 60 from 100, the later one fails.
    expect((await api.settle(late.operation.id)).status).toBe("succeeded");
    expect((await api.settle(after.operation.id)).failure.code).toBe("insufficient_funds");
    expect(await wallet(w)).toMatchObject({ balance: 40 });
    expect(await wallet(to)).toMatchObject({ balance: 60 });
    expect(await operationsWithKey(system, "late")).toBe(1);
  });

  it("a bulk replayed whole: every item replayed, the money moved once", async () => {
    const w = await newWallet(api);
    const items = Array.from({ length: 20 }, (_, i) => ({
      type: "top_up",
      idempotencyKey: `whole-${i}`,
      walletId: w,
      amount: 10,
    }));
    const first = await bulk(items);
    await waitAllSettled(system);
    const again = await bulk(items);
    expect(
      again.body.data.every((x: { status: number; replayed: boolean }) => x.status === 202 && x.replayed),
    ).toBe(true);
    expect(again.body.data.map((x: { operation: { id: string; status: string } }) => x.operation.id)).toEqual(
      first.body.data.map((x: { operation: { id: string } }) => x.operation.id),
    );
    expect(
      again.body.data.every((x: { operation: { status: string } }) => x.operation.status === "succeeded"),
    ).toBe(true);
    await waitAllSettled(system);
    expect(await wallet(w)).toMatchObject({ balance: 200, version: 20 });
  });

  it("the same key in a bulk and in a concurrent single request: one operation", async () => {
    const w = await newWallet(api);
    for (let round = 0; round < 10; round++) {
      const k = `shared-${round}`;
      const [viaBulk, single] = await Promise.all([
        bulk([{ type: "top_up", idempotencyKey: k, walletId: w, amount: 3 }]),
        api.topUp(w, 3, k),
      ]);
      expect(single.status).toBe(202);
      expect(viaBulk.body.data[0].operation.id).toBe(single.body.id);
      expect(await operationsWithKey(system, k)).toBe(1);
    }
    await waitAllSettled(system);
    expect(await wallet(w)).toMatchObject({ balance: 30, version: 10 });
  });

  it("50 concurrent identical bulks: one operation per key, the money moved once", async () => {
    const w = await newWallet(api);
    const items = Array.from({ length: 30 }, (_, i) => ({
      type: "top_up",
      idempotencyKey: `storm-${i}`,
      walletId: w,
      amount: 1 + i,
    }));
    const replies = await Promise.all(Array.from({ length: 50 }, () => bulk(items)));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    for (let i = 0; i < 30; i++) {
      const ids = new Set(replies.map((r) => r.body.data[i].operation.id));
      expect(ids.size).toBe(1);
      expect(replies.filter((r) => r.body.data[i].replayed === false)).toHaveLength(1);
    }
    await waitAllSettled(system);
    expect(await wallet(w)).toMatchObject({ balance: (30 * 31) / 2, version: 30 });
    await expectAuditClean(system);
  });

  it("a bulk counts one per item against the rate limit window (RateLimit remaining)", async () => {
    const w = await newWallet(api);
    const before = await api.get("/v1/wallets?limit=1");
    const remaining = (r: { headers: Headers }) =>
      Number(/r=(\d+)/.exec(r.headers.get("ratelimit") ?? "")?.[1]);
    const r = await bulk(
      Array.from({ length: 40 }, () => ({
        type: "top_up",
        idempotencyKey: randomUUID(),
        walletId: w,
        amount: 1,
      })),
    );
    // The GET, then 40 points for the bulk (within one window).
    expect(remaining(before) - remaining(r)).toBeGreaterThanOrEqual(40);
  });
});
