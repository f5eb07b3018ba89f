import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcceptBatcher } from "../../api/services/accept-batcher.ts";
import {
  type AcceptDeps,
  type Accepted,
  acceptOperation,
  keyLookup,
  refusalLookup,
} from "../../api/services/accept-operation.ts";
import { Backpressure } from "../../api/services/backpressure.ts";
import { acceptLookups } from "../../api/services/facts-by-id.ts";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { findHolds } from "../../shared/db/operation-repo.ts";
import { deadlockCount } from "../../shared/db/settings-repo.ts";
import { XactSnapshot } from "../../shared/db/xact-snapshot.ts";
import type { ApiError } from "../../shared/errors.ts";
import { newId } from "../../shared/ids.ts";
import type { OperationRequest } from "../../shared/operation-types/catalog.ts";
import { Doorbells } from "../../shared/queues/doorbells.ts";
import { type Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { operationsWithKey } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * The accept batcher groups concurrent accepts into one insert statement. These tests put many
 * accepts into one group for sure (submitted in one event-loop turn, in process, against the
 * real Postgres and Redis of a running system) and check that idempotency stays exact, then
 * check the same over HTTP, and that the money settles once.
 */

let system: TestSystem;
let api: Api & { clientId: string };
let other: Api & { clientId: string };
let deps: AcceptDeps;
let doorbells: Doorbells;
let a: string;
let b: string;
let c: string;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  api = await newClient(system, "alice");
  other = await newClient(system, "bob");
  doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
  const log = pino({ level: "silent" });
  deps = {
    lookups: acceptLookups(system.db.$client),
    batcher: new AcceptBatcher({ db: system.db.$client, ring: (ps) => doorbells.ring(ps), log }),
    findByKey: keyLookup(system.db.$client),
    walletRefusal: refusalLookup(system.db.$client),
    holds: (ids) => findHolds(system.db, ids),
    // Every bound off: these tests are about grouping, not refusals.
    backpressure: new Backpressure(
      { maxPending: 0, maxInFlight: 0, maxEventLoopDelayMs: 0 },
      { sampleBacklog: async () => ({ perPartition: [], snapshot: XactSnapshot.parse("1:1:") }) },
      log,
    ),
    metrics: { accepted: () => {}, refused: () => {} },
    log,
  };
  a = await newWallet(api);
  b = await newWallet(api);
  c = await newWallet(other);
  await api.settle((await api.topUp(a, 1_000_000)).body.id);
  await other.settle((await other.topUp(c, 1_000_000)).body.id);
});
afterAll(async () => {
  await doorbells?.close();
  await system?.stop();
});

const transfer = (from: string, to: string, amount: number): OperationRequest => ({
  type: "transfer",
  fromWalletId: from,
  toWalletId: to,
  amount,
  metadata: {},
});

type Settled = { ok: true; value: Accepted } | { ok: false; code: string };

/** Starts every accept in the same event-loop turn (one group), then waits for all. */
async function oneGroup(
  calls: { clientId: string; key: string; request: OperationRequest }[],
): Promise<Settled[]> {
  const started = calls.map((x) => acceptOperation(deps, x.clientId, x.key, x.request));
  return Promise.all(
    started.map((p) =>
      p.then(
        (value): Settled => ({ ok: true, value }),
        (err: { code?: string }): Settled => ({ ok: false, code: String(err.code) }),
      ),
    ),
  );
}

const balanceOf = async (id: string) =>
  (await system.db.execute<{ b: string }>(sql`SELECT balance::text AS b FROM wallets WHERE id = ${id}`))
    .rows[0]?.b;

describe("one group, one idempotency key", () => {
  it("twenty identical accepts: one operation inserted, nineteen replays of it, the money moved once", async () => {
    const before = await balanceOf(b);
    const results = await oneGroup(
      Array.from({ length: 20 }, () => ({
        clientId: api.clientId,
        key: "g-same",
        request: transfer(a, b, 7),
      })),
    );
    const accepted = results.map((r) => (r.ok ? r.value : undefined));
    expect(accepted.every((r) => r !== undefined)).toBe(true);
    expect(accepted.filter((r) => r?.replayed === false)).toHaveLength(1);
    expect(accepted.filter((r) => r?.replayed === true)).toHaveLength(19);
    expect(new Set(accepted.map((r) => r?.operation.id)).size).toBe(1);
    expect(await operationsWithKey(system, "g-same")).toBe(1);
    await waitAllSettled(system);
    expect(BigInt((await balanceOf(b)) ?? "0") - BigInt(before ?? "0")).toBe(7n);
  });

  it("the same key with different bodies in one group: the first is inserted, equal bodies replay, others get 422", async () => {
    const results = await oneGroup([
      { clientId: api.clientId, key: "g-mixed", request: transfer(a, b, 1) },
      { clientId: api.clientId, key: "g-mixed", request: transfer(a, b, 2) },
      { clientId: api.clientId, key: "g-mixed", request: transfer(a, b, 1) },
      {
        clientId: api.clientId,
        key: "g-mixed",
        request: { ...transfer(a, b, 1), metadata: { note: "other" } },
      },
    ]);
    expect(results[0]).toMatchObject({ ok: true, value: { replayed: false, operation: { amount: 1n } } });
    expect(results[1]).toEqual({ ok: false, code: "idempotency_key_reused" });
    expect(results[2]).toMatchObject({ ok: true, value: { replayed: true } });
    expect(results[3]).toEqual({ ok: false, code: "idempotency_key_reused" });
    const first = results[0]?.ok ? results[0].value.operation.id : "";
    expect(results[2]?.ok && results[2].value.operation.id).toBe(first);
    expect(await operationsWithKey(system, "g-mixed")).toBe(1);
  });
});

describe("one group, one idempotency key, the first accept refused by its wallets", () => {
  it("it gets its own 404; the next is inserted, later ones replay it or get 422; the money moves once", async () => {
    await waitAllSettled(system);
    const before = await balanceOf(b);
    const key = "g-first-refused";
    const results = await oneGroup([
      { clientId: api.clientId, key, request: transfer(c, b, 3) },
      { clientId: api.clientId, key, request: transfer(a, b, 3) },
      { clientId: api.clientId, key, request: transfer(a, b, 3) },
      { clientId: api.clientId, key, request: transfer(c, b, 3) },
      { clientId: api.clientId, key, request: transfer(a, b, 4) },
    ]);
    expect(results.map((r) => (r.ok ? (r.value.replayed ? "replay" : "inserted") : r.code))).toEqual([
      "wallet_not_found",
      "inserted",
      "replay",
      "idempotency_key_reused",
      "idempotency_key_reused",
    ]);
    expect(await operationsWithKey(system, key)).toBe(1);
    await waitAllSettled(system);
    expect(BigInt((await balanceOf(b)) ?? "0") - BigInt(before ?? "0")).toBe(3n);
  });
});

describe("one group, many keys", () => {
  it("fresh keys, keys already used (replay and conflict) and two clients sharing a key: each answered as alone", async () => {
    const earlier = await acceptOperation(deps, api.clientId, "g-earlier", transfer(a, b, 5));
    expect(earlier.replayed).toBe(false);
    const results = await oneGroup([
      { clientId: api.clientId, key: "g-fresh-1", request: transfer(a, b, 3) },
      { clientId: api.clientId, key: "g-earlier", request: transfer(a, b, 5) },
      { clientId: api.clientId, key: "g-fresh-2", request: transfer(b, a, 1) },
      { clientId: api.clientId, key: "g-earlier", request: transfer(a, b, 6) },
      { clientId: api.clientId, key: "g-shared", request: transfer(a, b, 4) },
      { clientId: other.clientId, key: "g-shared", request: transfer(c, a, 4) },
    ]);
    expect(results.map((r) => (r.ok ? (r.value.replayed ? "replay" : "new") : r.code))).toEqual([
      "new",
      "replay",
      "new",
      "idempotency_key_reused",
      "new",
      "new",
    ]);
    expect(results[1]?.ok && results[1].value.operation.id).toBe(earlier.operation.id);
    const shared = await system.db.execute<{ client_id: string }>(
      sql`SELECT client_id FROM operations WHERE idempotency_key = 'g-shared' ORDER BY client_id`,
    );
    expect(shared.rows.map((r) => r.client_id).sort()).toEqual([api.clientId, other.clientId].sort());
    expect(await operationsWithKey(system, "g-earlier")).toBe(1);
    expect(await operationsWithKey(system, "g-fresh-1")).toBe(1);
  });

  it("keeps acceptance order: sequence numbers follow the order the group's accepts arrived in", async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `g-order-${i}`);
    const results = await oneGroup(
      keys.map((key) => ({ clientId: api.clientId, key, request: transfer(a, b, 1) })),
    );
    const seqs = results.map((r) => (r.ok ? r.value.operation.seq : -1n));
    expect(seqs).toEqual([...seqs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(new Set(seqs).size).toBe(keys.length);
  });

  it("a row the database refuses fails alone; the rest of its group is accepted", async () => {
    const batcher = new AcceptBatcher({
      db: system.db.$client,
      ring: (ps) => doorbells.ring(ps),
      log: pino({ level: "silent" }),
    });
    const row = (key: string, toWalletId: string) => ({
      id: newId(),
      clientId: api.clientId,
      type: "transfer" as const,
      amount: 2n,
      currency: "USD",
      fromWalletId: a,
      toWalletId,
      holdId: null,
      expiresInSeconds: null,
      metadata: {},
      partition: 0,
      idempotencyKey: key,
      requestHash: key,
    });
    // A row placed already (a partition given) naming a destination that does not exist: the
    // insert's join refuses the group (a row placed by its wallets would be refused alone, with a
    // 404; this one stands for any row a statement refuses).
    const settled = await Promise.allSettled([
      batcher.submit(row("g-poison-ok-1", b)),
      batcher.submit(row("g-poison-bad", newId())),
      batcher.submit(row("g-poison-ok-2", b)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await operationsWithKey(system, "g-poison-ok-1")).toBe(1);
    expect(await operationsWithKey(system, "g-poison-bad")).toBe(0);
    expect(await operationsWithKey(system, "g-poison-ok-2")).toBe(1);

    // A bulk's rows are one block: the refused row is that item's answer alone, the others are
    // inserted and answered (before, the whole bulk failed though those rows were inserted).
    const bulk = await batcher.submitMany([
      row("g-poison-bulk-ok-1", b),
      row("g-poison-bulk-bad", newId()),
      row("g-poison-bulk-ok-2", b),
    ]);
    expect(bulk.map((r) => Object.keys(r)[0])).toEqual(["inserted", "failed", "inserted"]);
    expect(await operationsWithKey(system, "g-poison-bulk-ok-1")).toBe(1);
    expect(await operationsWithKey(system, "g-poison-bulk-bad")).toBe(0);
    expect(await operationsWithKey(system, "g-poison-bulk-ok-2")).toBe(1);
    await waitAllSettled(system);
    const applied = await system.db.execute<{ status: string }>(
      sql`SELECT status FROM operations WHERE idempotency_key LIKE 'g-poison-bulk-ok-%'`,
    );
    expect(applied.rows).toEqual([{ status: "succeeded" }, { status: "succeeded" }]);
  });
});

describe("concurrent groups holding one client's keys in different orders", () => {
  it("never deadlock: every accept answered, one operation a key, Postgres's deadlock counter unchanged", async () => {
    // Four batchers stand for four api processes (or groups of two processes in flight at
    // once), each on a pool of its own. Each round, all four insert the same 400 keys at the same
    // moment, in four different orders: forward, backward and two shuffles.
    const pools = Array.from(
      { length: 4 },
      () => new pg.Pool({ connectionString: system.databaseUrl, max: 2 }),
    );
    const log = pino({ level: "silent" });
    const batchers = pools.map((pool) => new AcceptBatcher({ db: pool, ring: async () => {}, log }));
    const deadlocksBefore = await deadlockCount(system.db);
    const random = (() => {
      let s = 7;
      return () => {
        s = (s * 1_664_525 + 1_013_904_223) >>> 0;
        return s / 2 ** 32;
      };
    })();
    const shuffled = <T>(xs: T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    };
    const rejected: string[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        const keys = Array.from({ length: 400 }, (_, i) => `x-${round}-${i}`);
        const orders = [keys, [...keys].reverse(), shuffled(keys), shuffled(keys)];
        const results = await Promise.allSettled(
          batchers.flatMap((batcher, i) =>
            (orders[i] as string[]).map((key) =>
              batcher.submit({
                id: newId(),
                clientId: api.clientId,
                type: "transfer",
                amount: 1n,
                currency: "USD",
                fromWalletId: a,
                toWalletId: b,
                holdId: null,
                expiresInSeconds: null,
                metadata: {},
                partition: 0,
                idempotencyKey: key,
                requestHash: "same",
              }),
            ),
          ),
        );
        for (const r of results) if (r.status === "rejected") rejected.push(String(r.reason));
        const inserted = results.filter((r) => r.status === "fulfilled" && "inserted" in r.value);
        expect(inserted).toHaveLength(keys.length);
        for (const key of keys) expect(await operationsWithKey(system, key)).toBe(1);
      }
    } finally {
      // A backend flushes its statistics (the deadlock counter among them) when it exits.
      await Promise.all(pools.map((pool) => pool.end()));
    }
    expect(rejected).toEqual([]);
    await sleep(500);
    expect(await deadlockCount(system.db)).toBe(deadlocksBefore);
  });
});

describe("over HTTP, under concurrency", () => {
  it("300 concurrent requests on 30 keys, a third with another amount: one operation a key, replays carry it, 422 exactly where the body differs", async () => {
    const sends = Array.from({ length: 300 }, (_, i) => {
      const key = `h-${i % 30}`;
      const amount = i % 3 === 0 ? 11 : 10;
      return api.transfer(a, b, amount, key).then((r) => ({ key, amount, r }));
    });
    const replies = await Promise.all(sends);
    for (let k = 0; k < 30; k++) {
      const key = `h-${k}`;
      const mine = replies.filter((x) => x.key === key);
      expect(await operationsWithKey(system, key)).toBe(1);
      const winners = mine.filter((x) => x.r.status === 202);
      const ids = new Set(winners.map((x) => x.r.body.id));
      expect(ids.size).toBe(1);
      const winnerAmount = winners[0]?.r.body.amount;
      expect(winners.filter((x) => x.r.headers.get("idempotent-replayed") !== "true")).toHaveLength(1);
      for (const x of mine) {
        if (x.amount === winnerAmount) expect(x.r.status).toBe(202);
        else expect(x.r.body.code).toBe("idempotency_key_reused");
      }
    }
    await waitAllSettled(system);
    const audit = await auditLedger(system.db, { pendingBoundSeconds: 0 });
    expect(audit.checks.filter((ch) => ch.violations > 0)).toEqual([]);
    const moved = await system.db.execute<{ total: string; expected: string }>(sql`
      SELECT (SELECT coalesce(sum(e.amount), 0) FROM entries e JOIN operations o ON o.id = e.operation_id
              WHERE o.idempotency_key LIKE 'h-%' AND e.wallet_id = ${b})::text AS total,
             (SELECT sum(amount) FROM operations WHERE idempotency_key LIKE 'h-%' AND status = 'succeeded')::text AS expected`);
    expect(moved.rows[0]?.total).toBe(moved.rows[0]?.expected);
  });
});

describe("refusals under overload", () => {
  it("400 refused accepts look their keys up in a few coalesced statements, hold no in-flight slot, and still answer replays", async () => {
    const earlier = await acceptOperation(deps, api.clientId, "o-earlier", transfer(a, b, 9));
    await waitAllSettled(system);
    const before = await balanceOf(b);
    let statements = 0;
    const counted = {
      query: ((...args: Parameters<typeof system.db.$client.query>) => {
        statements++;
        return system.db.$client.query(...args);
      }) as typeof system.db.$client.query,
    };
    const backpressure = new Backpressure(
      { maxPending: 1, maxInFlight: 0, maxEventLoopDelayMs: 0 },
      { sampleBacklog: async () => ({ perPartition: [1], snapshot: XactSnapshot.parse("1:1:") }) },
      pino({ level: "silent" }),
    );
    await backpressure.sample();
    const overloaded: AcceptDeps = { ...deps, backpressure, findByKey: keyLookup(counted) };
    const calls = Array.from({ length: 400 }, (_, i) => ({
      clientId: api.clientId,
      key: i === 123 ? "o-earlier" : `o-${i}`,
      request: transfer(a, b, 9),
    }));
    const started = calls.map((x) => acceptOperation(overloaded, x.clientId, x.key, x.request));
    expect(backpressure.inFlightCount()).toBe(0);
    const results = await Promise.allSettled(started);
    const codes = results.map((r) => (r.status === "fulfilled" ? "replay" : (r.reason as ApiError).code));
    expect(codes.filter((c) => c === "overloaded")).toHaveLength(399);
    expect(codes[123]).toBe("replay");
    expect(results[123]?.status === "fulfilled" && results[123].value.operation.id).toBe(
      earlier.operation.id,
    );
    // One statement per turn at most one in flight: a handful, not one per refusal.
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThanOrEqual(3);
    expect(await operationsWithKey(system, "o-0")).toBe(0);
    await waitAllSettled(system);
    expect(BigInt((await balanceOf(b)) ?? "0") - BigInt(before ?? "0")).toBe(0n);
  });
});
