import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("funding accounts beyond 2^53", () => {
  it("keeps exact balances and entries at -2^60 (BigInt arithmetic, bigint columns)", async () => {
    const w = await newWallet(api);
    const partition = (
      await system.db.execute<{ partition: number }>(sql`SELECT partition FROM wallets WHERE id = ${w}`)
    ).rows[0]?.partition;
    const start = -(2n ** 60n) + 1n; // odd: a float would round it
    await system.db.execute(sql`
      UPDATE wallets SET balance = ${start.toString()}::bigint
      WHERE kind = 'funding' AND currency = 'USD' AND partition = ${partition}`);

    const amount = 9_007_199_254_740_991; // 2^53 - 1
    expect((await api.settle((await api.topUp(w, amount)).body.id)).status).toBe("succeeded");
    const refused = await api.settle((await api.topUp(w, 1)).body.id);
    expect(refused).toMatchObject({ status: "failed", failure: { code: "balance_limit_exceeded" } });

    const funding = await system.db.execute<{ balance: string; version: string }>(sql`
      SELECT balance::text, version::text FROM wallets
      WHERE kind = 'funding' AND currency = 'USD' AND partition = ${partition}`);
    const expected = start - BigInt(amount);
    expect(funding.rows[0]).toEqual({ balance: expected.toString(), version: "1" });
    const entry = await system.db.execute<{ amount: string; balance_after: string }>(sql`
      SELECT e.amount::text, e.balance_after::text FROM entries e JOIN wallets f ON f.id = e.wallet_id
      WHERE f.kind = 'funding' AND f.partition = ${partition}`);
    expect(entry.rows).toEqual([
      { amount: (-BigInt(amount)).toString(), balance_after: expected.toString() },
    ]);
    // The second top-up would pass 2^53-1 on the client wallet: refused, nothing moved.
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: amount, version: 1 });
  });
});

describe("funding accounts at the edge of Postgres's bigint", () => {
  it("a top-up that would take the funding account below -2^63 fails alone with balance_limit_exceeded; the partition goes on", async () => {
    const w = await newWallet(api);
    const partition = (
      await system.db.execute<{ partition: number }>(sql`SELECT partition FROM wallets WHERE id = ${w}`)
    ).rows[0]?.partition;
    const floor = -(2n ** 63n);
    const fundingOf = async () =>
      (
        await system.db.execute<{ balance: string; version: string }>(sql`
          SELECT balance::text, version::text FROM wallets
          WHERE kind = 'funding' AND currency = 'USD' AND partition = ${partition}`)
      ).rows[0];
    const startVersion = BigInt((await fundingOf())?.version ?? "0");
    await system.db.execute(sql`
      UPDATE wallets SET balance = ${(floor + 10n).toString()}::bigint
      WHERE kind = 'funding' AND currency = 'USD' AND partition = ${partition}`);

    // Accepted in this order, so applied in it, in one batch or several.
    const ids: string[] = [];
    for (const amount of [5, 10, 5, 1]) ids.push((await api.topUp(w, amount)).body.id);
    const outcomes = [];
    for (const id of ids) {
      const op = await api.settle(id);
      outcomes.push(op.status === "failed" ? op.failure.code : op.status);
    }
    expect(outcomes).toEqual(["succeeded", "balance_limit_exceeded", "succeeded", "balance_limit_exceeded"]);
    expect(await fundingOf()).toEqual({ balance: floor.toString(), version: (startVersion + 2n).toString() });
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 10, version: 2 });

    // Transfers of the partition still apply: the stall was for every operation of its batches.
    const other = await newWallet(api);
    const t = await api.settle((await api.transfer(w, other, 4)).body.id);
    expect(t.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${other}`)).body).toMatchObject({ balance: 4, version: 1 });
  });
});
