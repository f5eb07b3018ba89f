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
