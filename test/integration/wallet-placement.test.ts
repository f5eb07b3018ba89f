import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  insertPendingMany,
  type NewPendingOperation,
  type WalletRefusal,
  walletRefusals,
} from "../../shared/db/operation-batch-repo.ts";
import { newId } from "../../shared/ids.ts";
import { type Api, newClient, newWallet, partitionOf } from "../helpers/http.ts";
import { moneySnapshot } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A top-up, payout, transfer or hold is placed by its wallets in the accept insert itself
 * (shared/db/operation-batch-repo.ts, WALLET_REFUSAL): the insert refuses a row whose placing
 * wallet is not the caller's, whose destination is not a client's wallet, or whose currencies
 * differ, and gives the others the placing wallet's partition and currency. The statement is
 * called as the api calls it; no worker runs, and nothing may move.
 */

let system: TestSystem;
let alice: Api & { clientId: string };
let usd: string;
let usd2: string;
let eur: string;
let bobs: string;
let funding: string;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 0 });
  alice = await newClient(system, "alice");
  const bob = await newClient(system, "bob");
  usd = await newWallet(alice, { currency: "USD" });
  usd2 = await newWallet(alice, { currency: "USD" });
  eur = await newWallet(alice, { currency: "EUR" });
  bobs = await newWallet(bob, { currency: "USD" });
  const f = await system.db.execute<{ id: string }>(
    sql`SELECT id FROM wallets WHERE kind = 'funding' AND currency = 'USD' LIMIT 1`,
  );
  funding = f.rows[0]?.id as string;
});
afterAll(async () => system?.stop());

/** A row placed by its wallets, as walletPlacement leaves it (no partition, no currency). */
const byWallets = (
  type: NewPendingOperation["type"],
  fromWalletId: string | null,
  toWalletId: string | null,
): NewPendingOperation => ({
  id: newId(),
  clientId: alice.clientId,
  type,
  amount: 5n,
  currency: null,
  partition: null,
  fromWalletId,
  toWalletId,
  holdId: null,
  expiresInSeconds: type === "hold" ? 60 : null,
  metadata: {},
  idempotencyKey: randomUUID(),
  requestHash: randomUUID(),
});

const cases = (): [string, NewPendingOperation, WalletRefusal | { placedBy: string; currency: string }][] => [
  [
    "a transfer between the caller's wallets",
    byWallets("transfer", usd, usd2),
    { placedBy: usd, currency: "USD" },
  ],
  [
    "a transfer to another client's wallet",
    byWallets("transfer", usd, bobs),
    { placedBy: usd, currency: "USD" },
  ],
  ["a hold", byWallets("hold", usd2, bobs), { placedBy: usd2, currency: "USD" }],
  ["a top-up", byWallets("top_up", null, eur), { placedBy: eur, currency: "EUR" }],
  ["a payout", byWallets("payout", usd2, null), { placedBy: usd2, currency: "USD" }],
  ["a transfer from another client's wallet", byWallets("transfer", bobs, usd), "source"],
  ["a transfer from a funding account", byWallets("transfer", funding, usd), "source"],
  ["a transfer from a wallet that does not exist", byWallets("transfer", randomUUID(), usd), "source"],
  [
    "a transfer from and to wallets that do not exist",
    byWallets("transfer", randomUUID(), randomUUID()),
    "source",
  ],
  ["a transfer to a funding account", byWallets("transfer", usd, funding), "destination"],
  ["a transfer to a wallet that does not exist", byWallets("hold", usd, randomUUID()), "destination"],
  ["a transfer across currencies", byWallets("transfer", usd, eur), "currency"],
  ["a top-up of another client's wallet", byWallets("top_up", null, bobs), "source"],
  ["a top-up of a funding account", byWallets("top_up", null, funding), "source"],
  ["a payout from another client's wallet", byWallets("payout", bobs, null), "source"],
  ["a payout from a wallet that does not exist", byWallets("payout", randomUUID(), null), "source"],
];

describe("the accept insert places rows by their wallets", () => {
  it("inserts each row it may, in its placing wallet's partition and currency, and refuses each other row with its reason", async () => {
    const table = cases();
    const before = await moneySnapshot(system);
    const { inserted, refused } = await insertPendingMany(
      system.db.$client,
      table.map(([, row]) => row),
    );
    for (const [what, row, expected] of table) {
      if (typeof expected === "string") {
        expect(refused.get(row.id), what).toBe(expected);
        expect(inserted.has(row.id), what).toBe(false);
        continue;
      }
      expect(refused.has(row.id), what).toBe(false);
      const partition = await partitionOf(system, expected.placedBy);
      expect(inserted.get(row.id), what).toMatchObject({ partition, currency: expected.currency });
      // As stored and queued, not only as answered.
      const stored = await system.db.execute<{ partition: number; currency: string; queued: number }>(
        sql`SELECT o.partition, o.currency, p.partition AS queued
            FROM operations o JOIN pending_operations p ON p.operation_id = o.id WHERE o.id = ${row.id}`,
      );
      expect(stored.rows, what).toEqual([{ partition, currency: expected.currency, queued: partition }]);
    }
    const refusedIds = table.filter(([, , e]) => typeof e === "string").map(([, row]) => row.id);
    const none = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE id IN ${refusedIds}`,
    );
    expect(none.rows).toEqual([{ n: 0 }]);
    // Accepted only, the five placed rows: nothing is applied without a worker.
    expect(await moneySnapshot(system)).toEqual({ ...before, operations: before.operations + 5 });
  });

  it("walletRefusals, which an overloaded accept asks, gives the insert's answers without inserting", async () => {
    const table = cases();
    const found = await walletRefusals(
      system.db.$client,
      table.map(([, row]) => row),
    );
    for (const [what, row, expected] of table)
      expect(found.get(row.id), what).toBe(typeof expected === "string" ? expected : undefined);
    const ids = table.map(([, row]) => row.id);
    const none = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE id IN ${ids}`,
    );
    expect(none.rows).toEqual([{ n: 0 }]);
  });

  it("of rows sharing a key, inserts the first one not refused; a key already held inserts none", async () => {
    const key = randomUUID();
    const shared = (row: NewPendingOperation) => ({ ...row, idempotencyKey: key });
    const group = [
      shared(byWallets("transfer", bobs, usd)),
      shared(byWallets("transfer", usd, usd2)),
      shared(byWallets("transfer", usd2, usd)),
    ];
    const first = await insertPendingMany(system.db.$client, group);
    expect([...first.refused]).toEqual([[group[0]?.id, "source"]]);
    expect([...first.inserted.keys()]).toEqual([group[1]?.id]);

    const again = [shared(byWallets("transfer", usd, usd2)), shared(byWallets("transfer", bobs, usd))];
    const second = await insertPendingMany(system.db.$client, again);
    expect(second.inserted.size).toBe(0);
    expect([...second.refused]).toEqual([[again[1]?.id, "source"]]);
    const held = await system.db.execute<{ id: string }>(
      sql`SELECT id FROM operations WHERE client_id = ${alice.clientId} AND idempotency_key = ${key}`,
    );
    expect(held.rows).toEqual([{ id: group[1]?.id }]);
  });
});
