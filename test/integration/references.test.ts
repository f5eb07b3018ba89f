import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestHash } from "../../shared/canonical.ts";
import {
  DanglingReferenceError,
  insertPendingMany,
  type NewPendingOperation,
} from "../../shared/db/operation-batch-repo.ts";
import { pgCode } from "../../shared/db/pg-errors.ts";
import { newId } from "../../shared/ids.ts";
import { readPending, writeBatch } from "../../worker/batch-repo.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectAuditClean, expectNothingMoved, moneySnapshot } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * The foreign keys of `operations` and `entries` were replaced (migration 0004, docs/design.md):
 * each replacement refuses what its key refused. A referenced row cannot be deleted or re-keyed
 * (triggers), an operation naming a client, wallet or hold that does not exist is not inserted
 * (the accept insert joins them), and an entry whose wallet or operation the batch did not update
 * is not written (the batch write joins them). No worker runs: the statements are called as the
 * api and the runner call them, and nothing may move.
 */

let system: TestSystem;
let api: Api & { clientId: string };
let wallet: string;
let other: string;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 0 });
  api = await newClient(system);
  wallet = await newWallet(api);
  other = await newWallet(api);
});
afterAll(async () => system?.stop());

/** Runs `statement` and returns the SQLSTATE it failed with. */
async function refusal(statement: ReturnType<typeof sql>): Promise<string | undefined> {
  try {
    await system.db.execute(statement);
  } catch (err) {
    return pgCode(err);
  }
  return undefined;
}

const transfer = (overrides: Partial<NewPendingOperation> = {}): NewPendingOperation => ({
  id: newId(),
  clientId: api.clientId,
  type: "transfer",
  amount: 5n,
  currency: "USD",
  fromWalletId: wallet,
  toWalletId: other,
  holdId: null,
  expiresInSeconds: null,
  metadata: {},
  partition: 0,
  idempotencyKey: randomUUID(),
  requestHash: requestHash({ type: "transfer", fromWalletId: wallet, toWalletId: other, amount: 5 }),
  ...overrides,
});

describe("rows the ledger references are never deleted nor re-keyed", () => {
  it("refuses DELETE, a changed id and TRUNCATE of clients, wallets and operations (restrict_violation)", async () => {
    // One real operation, accepted and left pending: it is referenced by nothing yet, and still kept.
    const [op] = [...(await insertPendingMany(system.db.$client, [transfer()])).inserted.values()];
    const before = await moneySnapshot(system);
    const rows = [
      ["clients", api.clientId],
      ["wallets", wallet],
      ["operations", op?.id as string],
    ] as const;
    for (const [table, id] of rows) {
      const t = sql.raw(table);
      expect(await refusal(sql`DELETE FROM ${t} WHERE id = ${id}`), `DELETE ${table}`).toBe("23001");
      expect(
        await refusal(sql`UPDATE ${t} SET id = ${randomUUID()} WHERE id = ${id}`),
        `re-key ${table}`,
      ).toBe("23001");
      expect(await refusal(sql`TRUNCATE ${t} CASCADE`), `TRUNCATE ${table}`).toBe("23001");
      // An update that leaves the key as it is passes (the trigger looks at the value, not the column list).
      expect(await refusal(sql`UPDATE ${t} SET id = id WHERE id = ${id}`)).toBeUndefined();
    }
    await expectNothingMoved(system, before);
  });
});

describe("an operation is inserted only with every reference found", () => {
  it.each([
    ["a client", { clientId: randomUUID() }],
    ["a source wallet", { fromWalletId: randomUUID() }],
    ["a destination wallet", { toWalletId: randomUUID() }],
    ["a hold", { type: "capture" as const, holdId: randomUUID() }],
    ["a refund's original", { type: "refund" as const, refundOf: randomUUID() }],
  ])("that names %s that does not exist: the group inserts nothing and raises", async (_what, bad) => {
    const before = await moneySnapshot(system);
    const queued = await system.db.execute(sql`SELECT count(*)::int AS n FROM pending_operations`);
    const group = [transfer(), transfer(bad), transfer()];
    const err = await insertPendingMany(system.db.$client, group).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DanglingReferenceError);
    expect((err as DanglingReferenceError).operationIds).toEqual([group[1]?.id]);
    // Not even the rows whose references were found: a failed group is retried key by key.
    await expectNothingMoved(system, before);
    expect((await system.db.execute(sql`SELECT count(*)::int AS n FROM pending_operations`)).rows).toEqual(
      queued.rows,
    );
  });
});

describe("an entry is written only for a wallet and an operation the batch updates", () => {
  it.each([
    ["a wallet", "walletId"],
    ["an operation", "operationId"],
  ] as const)(
    "naming %s the batch did not update: the write raises and the batch rolls back",
    async (_what, field) => {
      const [op] = [...(await insertPendingMany(system.db.$client, [transfer()])).inserted.values()];
      if (!op) throw new Error("not inserted");
      const before = await moneySnapshot(system);
      const client = await system.db.$client.connect();
      try {
        await client.query("BEGIN");
        const pending = await readPending(client, [{ partition: 0, cap: 100 }]);
        expect(pending.map((p) => p.id)).toContain(op.id);
        const w = await client.query<{ balance: string; version: string }>(
          "SELECT balance::text, version::text FROM wallets WHERE id = $1",
          [wallet],
        );
        const balance = BigInt(w.rows[0]?.balance ?? 0) + 1n;
        const version = BigInt(w.rows[0]?.version ?? 0) + 1n;
        const entry = {
          operationId: op.id,
          walletId: wallet,
          amount: 1n,
          balanceAfter: balance,
          walletVersion: version,
        };
        const write = writeBatch(
          client,
          pending,
          {
            entries: [{ ...entry, [field]: randomUUID() }],
            changedWallets: [{ id: wallet, kind: "client", balance, held: 0n, version }],
            changedHolds: [],
            changedRefundables: [],
            outcomes: pending.map((p) => ({ operationId: p.id, status: "succeeded" as const })),
          },
          {},
        );
        await expect(write).rejects.toThrow("batch write posted 0 of 1 entries");
      } finally {
        await client.query("ROLLBACK");
        client.release();
      }
      await expectNothingMoved(system, before);
      await expectAuditClean(system);
    },
  );
});
