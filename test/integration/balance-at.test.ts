import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * `GET /v1/wallets/:id/balance?at=` (API.md): the posted balance and version as of an instant,
 * from the entries, checked against a running sum the test keeps of the same entries.
 */

let system: TestSystem;
let api: Api;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

describe("balance at an instant", () => {
  it("equals the running sum of the entries at or before it, at several instants", async () => {
    const w = await newWallet(api);
    const other = await newWallet(api);
    const created = new Date();
    const instants: Date[] = [new Date(created.getTime() - 60_000)];
    for (const step of [
      () => api.topUp(w, 1_000),
      () => api.transfer(w, other, 250),
      () => api.topUp(w, 40),
      () => api.payout(w, 90),
      () => api.transfer(other, w, 5),
    ]) {
      expect((await api.settle((await step()).body.id)).status).toBe("succeeded");
      instants.push(new Date());
      await sleep(5);
    }
    const entries: { amount: number; createdAt: string }[] = (await api.get(`/v1/wallets/${w}/entries`)).body
      .data;
    expect(entries).toHaveLength(5);
    // Also the exact instants of the entries (at or before counts) and one millisecond before each.
    for (const e of entries) {
      const at = Date.parse(e.createdAt);
      instants.push(new Date(at), new Date(at - 1));
    }
    for (const at of instants) {
      const counted = entries.filter((e) => Date.parse(e.createdAt) <= at.getTime());
      const expected = counted.reduce((sum, e) => sum + e.amount, 0);
      const r = await api.get(`/v1/wallets/${w}/balance?at=${encodeURIComponent(at.toISOString())}`);
      expect(r.status).toBe(200);
      expect(r.body).toStrictEqual({
        walletId: w,
        currency: "USD",
        at: at.toISOString(),
        balance: expected,
        version: counted.length,
      });
    }
    const now = (await api.get(`/v1/wallets/${w}/balance?at=${encodeURIComponent(new Date().toISOString())}`))
      .body;
    expect(now).toMatchObject({ balance: 705, version: 5 });
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 705, version: 5 });
  });

  it("takes an offset and answers in UTC", async () => {
    const w = await newWallet(api);
    const r = await api.get(`/v1/wallets/${w}/balance?at=${encodeURIComponent("2026-01-01T02:00:00+02:00")}`);
    expect(r.body).toMatchObject({ at: "2026-01-01T00:00:00.000Z", balance: 0, version: 0 });
  });

  it("holds do not change the posted balance", async () => {
    const w = await newWallet(api);
    const to = await newWallet(api);
    await api.settle((await api.topUp(w, 100)).body.id);
    await api.settle((await api.hold(w, to, 60)).body.id);
    const r = await api.get(`/v1/wallets/${w}/balance?at=${encodeURIComponent(new Date().toISOString())}`);
    expect(r.body).toMatchObject({ balance: 100, version: 1 });
  });
});

describe("an answer for an instant never changes", () => {
  let held: TestSystem;
  let client: Api;
  /** Set to make the next batch wait after its write (its entries dated), before its COMMIT. */
  let hold: { reached: () => void; release: Promise<void> } | undefined;

  beforeAll(async () => {
    held = await startSystem({
      partitions: 2,
      inProcessWorker: {
        hooks: {
          beforeCommit: async () => {
            const h = hold;
            hold = undefined;
            if (!h) return;
            h.reached();
            await h.release;
          },
        },
      },
    });
    client = await newClient(held);
  });
  afterAll(async () => held?.stop());

  const balanceAt = (w: string, at: Date) =>
    client.get(`/v1/wallets/${w}/balance?at=${encodeURIComponent(at.toISOString())}`);

  it("asked while a batch that dated entries before it has not committed: the answer waits for it", async () => {
    const w = await newWallet(client);
    await client.settle((await client.topUp(w, 100)).body.id);
    let reached!: () => void;
    let release!: () => void;
    const atHook = new Promise<void>((r) => {
      reached = r;
    });
    hold = { reached, release: new Promise<void>((r) => (release = r)) };
    const topUp = (await client.topUp(w, 50)).body.id as string;
    await atHook;
    // The top-up's entry is dated already, and not visible until the commit.
    await sleep(2);
    const at = new Date();
    const asked = balanceAt(w, at);
    await sleep(300);
    release();
    const first = await asked;
    await client.settle(topUp);
    const later = await balanceAt(w, at);
    expect(first.status).toBe(200);
    expect(first.body).toEqual(later.body);
    expect(later.body).toMatchObject({ balance: 150, version: 2 });
  });

  it("an instant a moment ahead of the database's clock is waited for; one further ahead is a 400", async () => {
    const w = await newWallet(client);
    await client.settle((await client.topUp(w, 7)).body.id);
    const soon = await balanceAt(w, new Date(Date.now() + 300));
    expect(soon.status).toBe(200);
    expect(soon.body).toMatchObject({ balance: 7, version: 1 });
    const far = await balanceAt(w, new Date(Date.now() + 60_000));
    expect(far.status).toBe(400);
    expect(far.body.code).toBe("validation_error");
  });
});
