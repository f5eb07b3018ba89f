import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("top-up then transfer", () => {
  it("moves the money, posts double entries and reads back final statuses", async () => {
    const a = await newWallet(api, { metadata: { owner: "alice" } });
    const b = await newWallet(api);

    const topUp = await api.topUp(a, 10_000);
    expect(topUp.status).toBe(202);
    expect(topUp.headers.get("location")).toBe(`/v1/operations/${topUp.body.id}`);
    expect(topUp.body).toMatchObject({
      type: "top_up",
      status: "pending",
      amount: 10_000,
      fromWalletId: null,
      toWalletId: a,
    });
    expect((await api.settle(topUp.body.id)).status).toBe("succeeded");

    const transfer = await api.transfer(a, b, 2_500);
    expect(transfer.status).toBe(202);
    const done = await api.settle(transfer.body.id);
    expect(done).toMatchObject({ status: "succeeded", amount: 2_500, currency: "USD", failure: null });
    expect(done.completedAt).not.toBeNull();

    const wa = (await api.get(`/v1/wallets/${a}`)).body;
    const wb = (await api.get(`/v1/wallets/${b}`)).body;
    expect(wa).toMatchObject({ balance: 7_500, version: 2, metadata: { owner: "alice" } });
    expect(wb).toMatchObject({ balance: 2_500, version: 1 });

    const entries = (await api.get(`/v1/wallets/${a}/entries`)).body;
    expect(
      entries.data.map((e: { amount: number; balanceAfter: number }) => [e.amount, e.balanceAfter]),
    ).toEqual([
      [-2_500, 7_500],
      [10_000, 10_000],
    ]);

    // The top-up debited the funding account of the wallet's partition: USD sums to zero.
    const sums = await system.db.execute<{ total: string }>(
      sql`SELECT sum(balance)::text AS total FROM wallets WHERE currency = 'USD'`,
    );
    expect(sums.rows[0]?.total).toBe("0");
    expect((await auditLedger(system.db)).ok).toBe(true);
  });

  it("fails a transfer beyond the balance with insufficient_funds and moves nothing", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);
    const done = await api.settle((await api.transfer(a, b, 101)).body.id);
    expect(done.status).toBe("failed");
    expect(done.failure).toEqual({ code: "insufficient_funds", message: expect.any(String) });
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 100, version: 1 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 0, version: 0 });
    const n = await system.db.execute<{ n: string }>(
      sql`SELECT count(*)::text AS n FROM entries WHERE operation_id = ${done.id}`,
    );
    expect(n.rows[0]?.n).toBe("0");
  });
});
