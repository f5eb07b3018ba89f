import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/** Payouts (docs/api.md, "Operations"): money leaves the system, the funding account of the wallet's partition takes it back. */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

const fundingOf = async (walletId: string) =>
  (
    await system.db.execute<{ balance: string; version: string }>(sql`
      SELECT f.balance::text, f.version::text FROM wallets f JOIN wallets w ON w.id = ${walletId}
      WHERE f.kind = 'funding' AND f.currency = w.currency AND f.partition = w.partition`)
  ).rows[0];

describe("POST /v1/payouts", () => {
  it("debits the wallet and credits its partition's funding account: two entries, the books still balance", async () => {
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 1_000)).body.id);
    const fundingBefore = await fundingOf(w);
    const r = await api.payout(w, 300);
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect(r.body).toMatchObject({
      type: "payout",
      status: "pending",
      amount: 300,
      fromWalletId: w,
      toWalletId: null,
      holdId: null,
      hold: null,
    });
    const done = await api.settle(r.body.id);
    expect(done.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 700, version: 2 });
    const entries = (await api.get(`/v1/wallets/${w}/entries`)).body.data;
    expect(entries[0]).toMatchObject({ operationId: r.body.id, amount: -300, balanceAfter: 700 });
    expect(await fundingOf(w)).toEqual({
      balance: (BigInt(fundingBefore?.balance ?? "0") + 300n).toString(),
      version: (BigInt(fundingBefore?.version ?? "0") + 1n).toString(),
    });
    await expectAuditClean(system);
  });

  it("is checked against the available balance: held money cannot be paid out", async () => {
    const w = await newWallet(api);
    const to = await newWallet(api);
    await api.settle((await api.topUp(w, 100)).body.id);
    await api.settle((await api.hold(w, to, 80)).body.id);
    const over = await api.settle((await api.payout(w, 21)).body.id);
    expect(over).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" } });
    expect((await api.settle((await api.payout(w, 20)).body.id)).status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({
      balance: 80,
      heldBalance: 80,
      availableBalance: 0,
    });
    await expectAuditClean(system);
  });

  it("a replay under the same key is the same payout, paid once", async () => {
    const w = await newWallet(api);
    await api.settle((await api.topUp(w, 50)).body.id);
    const first = await api.payout(w, 10, "payout-once");
    await api.settle(first.body.id);
    const again = await api.payout(w, 10, "payout-once");
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toMatchObject({ id: first.body.id, status: "succeeded" });
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 40, version: 2 });
  });
});
