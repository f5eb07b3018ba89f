import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * Holds (docs/api.md, "Holds"): a hold reserves available balance without an entry, a capture moves
 * (part of) it with two entries and releases the rest, a void releases it all without an entry.
 * The money is asserted: balances, held and available amounts, entries and versions.
 */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 4, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

const wallet = async (id: string) => (await api.get(`/v1/wallets/${id}`)).body;
const entriesOf = async (id: string) =>
  (await api.get(`/v1/wallets/${id}/entries`)).body.data
    .reverse()
    .map((e: { operationId: string; amount: number; balanceAfter: number }) => [
      e.operationId,
      e.amount,
      e.balanceAfter,
    ]);
const settle = async (r: { status: number; body: { id: string } }) => {
  expect(r.status).toBe(202);
  return api.settle(r.body.id);
};
/** A wallet holding `amount`. */
async function funded(amount: number): Promise<string> {
  const w = await newWallet(api);
  expect((await settle(await api.topUp(w, amount))).status).toBe("succeeded");
  return w;
}

describe("a hold reserves the available balance", () => {
  it("hold 70 of 100: available 30; a transfer of 40 fails insufficient_funds, one of 30 succeeds", async () => {
    const a = await funded(100);
    const b = await newWallet(api);
    const c = await newWallet(api);
    const hold = await settle(await api.hold(a, b, 70, { metadata: { order: "o-1" } }));
    expect(hold).toMatchObject({
      type: "hold",
      status: "succeeded",
      amount: 70,
      fromWalletId: a,
      toWalletId: b,
      holdId: null,
      metadata: { order: "o-1" },
      hold: { status: "active", capturedAmount: null, releasedAt: null },
    });
    // 7 days by default, from its acceptance.
    expect(Date.parse(hold.hold.expiresAt) - Date.parse(hold.createdAt)).toBe(604_800_000);
    expect(await wallet(a)).toMatchObject({
      balance: 100,
      heldBalance: 70,
      availableBalance: 30,
      version: 1,
    });

    const t40 = await settle(await api.transfer(a, c, 40));
    expect(t40).toMatchObject({ status: "failed", failure: { code: "insufficient_funds" } });
    const t30 = await settle(await api.transfer(a, c, 30));
    expect(t30.status).toBe("succeeded");
    expect(await wallet(a)).toMatchObject({ balance: 70, heldBalance: 70, availableBalance: 0, version: 2 });
    expect(await wallet(c)).toMatchObject({ balance: 30, version: 1 });
    // The hold posted no entry.
    expect((await entriesOf(a)).map((e: unknown[]) => e[1])).toEqual([100, -30]);
    await expectAuditClean(system);
  });

  it("capture 50 of a hold of 70: the destination +50, the source 50 with nothing held, two entries, versions +1 each", async () => {
    const a = await funded(100);
    const b = await newWallet(api);
    const hold = await settle(await api.hold(a, b, 70));
    const capture = await settle(await api.capture(hold.id, 50));
    expect(capture).toMatchObject({
      type: "capture",
      status: "succeeded",
      amount: 50,
      fromWalletId: a,
      toWalletId: b,
      holdId: hold.id,
      hold: null,
    });
    expect(await wallet(a)).toMatchObject({ balance: 50, heldBalance: 0, availableBalance: 50, version: 2 });
    expect(await wallet(b)).toMatchObject({ balance: 50, heldBalance: 0, version: 1 });
    expect((await entriesOf(a)).slice(1)).toEqual([[capture.id, -50, 50]]);
    expect(await entriesOf(b)).toEqual([[capture.id, 50, 50]]);
    const after = (await api.get(`/v1/operations/${hold.id}`)).body;
    expect(after.hold).toMatchObject({ status: "captured", capturedAmount: 50 });
    expect(Date.parse(after.hold.releasedAt)).toBeGreaterThanOrEqual(Date.parse(capture.createdAt));
    await expectAuditClean(system);
  });

  it("a capture without an amount takes all of the hold", async () => {
    const a = await funded(20);
    const b = await newWallet(api);
    const hold = await settle(await api.hold(a, b, 15));
    expect(await settle(await api.capture(hold.id))).toMatchObject({ status: "succeeded", amount: 15 });
    expect(await wallet(a)).toMatchObject({ balance: 5, heldBalance: 0 });
    expect(await wallet(b)).toMatchObject({ balance: 15 });
  });

  it("a void releases without an entry; the money stays where it was", async () => {
    const a = await funded(100);
    const b = await newWallet(api);
    const hold = await settle(await api.hold(a, b, 60));
    const voided = await settle(await api.void(hold.id));
    expect(voided).toMatchObject({ type: "void", status: "succeeded", amount: 60, holdId: hold.id });
    expect(await wallet(a)).toMatchObject({
      balance: 100,
      heldBalance: 0,
      availableBalance: 100,
      version: 1,
    });
    expect(await wallet(b)).toMatchObject({ balance: 0, version: 0 });
    expect(await entriesOf(b)).toEqual([]);
    const released = (await api.get(`/v1/operations/${hold.id}`)).body.hold;
    expect(released).toMatchObject({
      status: "voided",
      capturedAmount: null,
      releasedAt: expect.any(String),
    });
    const entries = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM entries WHERE operation_id IN (${hold.id}, ${voided.id})`,
    );
    expect(entries.rows[0]?.n).toBe(0);
  });

  it("a capture accepted while its hold is pending is applied after it", async () => {
    const a = await funded(100);
    const b = await newWallet(api);
    // Accepted back to back, before any is applied.
    const hold = await api.hold(a, b, 40);
    const capture = await api.capture(hold.body.id, 25);
    expect(capture.status).toBe(202);
    expect((await api.settle(capture.body.id)).status).toBe("succeeded");
    expect(await wallet(a)).toMatchObject({ balance: 75, heldBalance: 0 });
    expect(await wallet(b)).toMatchObject({ balance: 25 });
  });

  it("a hold and a transfer from one wallet in one batch see each other", async () => {
    const a = await funded(50);
    const b = await newWallet(api);
    // Accepted together: most likely one batch; the order decides either way.
    const [hold, transfer] = await Promise.all([api.hold(a, b, 30), api.transfer(a, b, 30)]);
    const ops = [await api.settle(hold.body.id), await api.settle(transfer.body.id)];
    const statuses = ops.map((o) => o.status).sort();
    expect(statuses).toEqual(["failed", "succeeded"]);
    const w = await wallet(a);
    expect(w.availableBalance).toBe(20);
  });
});

describe("listing and the wallet resource", () => {
  it("?type= lists the operations of one type", async () => {
    const a = await funded(10);
    const b = await newWallet(api);
    const hold = await settle(await api.hold(a, b, 4));
    const capture = await settle(await api.capture(hold.id, 4));
    const holds = (await api.get(`/v1/operations?walletId=${a}&type=hold`)).body.data;
    expect(holds.map((o: { id: string }) => o.id)).toEqual([hold.id]);
    expect(holds[0].hold).toMatchObject({ status: "captured", capturedAmount: 4 });
    const captures = (await api.get(`/v1/operations?walletId=${a}&type=capture`)).body.data;
    expect(captures.map((o: { id: string }) => o.id)).toEqual([capture.id]);
    expect((await api.get("/v1/operations?type=nope")).status).toBe(400);
  });
});
