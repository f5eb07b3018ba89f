import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiProcess, startApiProcess } from "../helpers/api-process.ts";
import { fakeClock } from "../helpers/faketime.ts";
import { Api, newClient, newWallet } from "../helpers/http.ts";
import { expectProblem } from "../helpers/problem.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { until } from "../helpers/throwaway.ts";

/**
 * `GET /v1/wallets/:id/balance?at=` (docs/api.md): the posted balance and version as of an instant,
 * from the entries, checked against a running sum the test keeps of the same entries; and an
 * answer, once given, never changes: not while a batch that posts to the wallet is between its
 * write and its COMMIT (held there by the runner's `beforeCommit` hook), not on an api host
 * whose clock disagrees with Postgres's (libfaketime).
 */

let system: TestSystem;
let api: Api;
/** Armed by a test: the next batch to reach its COMMIT waits there until released. */
let holding: { reached: () => void; release: Promise<void> } | undefined;

beforeAll(async () => {
  system = await startSystem({
    partitions: 2,
    inProcessWorker: {
      hooks: {
        beforeCommit: async () => {
          const h = holding;
          holding = undefined;
          if (!h) return;
          h.reached();
          await h.release;
        },
      },
    },
  });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** Postgres's clock now, as the API shows instants (milliseconds). */
const postgresNow = async (): Promise<Date> => {
  const r = await system.db.execute<{ ms: string }>(
    sql`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS ms`,
  );
  return new Date(Number(r.rows[0]?.ms));
};

const balanceAt = (client: Api, wallet: string, at: Date) =>
  client.get(`/v1/wallets/${wallet}/balance?at=${encodeURIComponent(at.toISOString())}`);

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

  it.each([
    ["an offset's + sent unencoded (read as a space)", "2026-01-01T02:00:00+02:00"],
    ["a negative offset", "2025-12-31T22:00:00-02:00"],
    ["a lower-case t and z (RFC 3339)", "2026-01-01t00:00:00z"],
  ])("%s is the same instant", async (_, at) => {
    const w = await newWallet(api);
    const r = await api.get(`/v1/wallets/${w}/balance?at=${at}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ at: "2026-01-01T00:00:00.000Z", balance: 0, version: 0 });
  });

  it("the earliest instant ISO 8601 writes with four digits, year 0000 (1 BC), is 0 and 0", async () => {
    const w = await newWallet(api);
    const r = await api.get(`/v1/wallets/${w}/balance?at=0000-01-01T00:00:00Z`);
    expect(r.body).toStrictEqual({
      walletId: w,
      currency: "USD",
      at: "0000-01-01T00:00:00.000Z",
      balance: 0,
      version: 0,
    });
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

describe("an answer never changes", () => {
  it("an instant after a batch's stamp, asked before its COMMIT, counts the batch's entries", async () => {
    const w = await newWallet(api);
    expect((await api.settle((await api.topUp(w, 100)).body.id)).status).toBe("succeeded");

    let reached!: () => void;
    const atCommit = new Promise<void>((r) => {
      reached = r;
    });
    let release!: () => void;
    holding = {
      reached,
      release: new Promise<void>((r) => {
        release = r;
      }),
    };
    const topUp = await api.topUp(w, 50);
    // The batch has stamped its entry (clock_timestamp() in its write) and not committed.
    await atCommit;
    const at = await postgresNow();
    let answered = false;
    const first = balanceAt(api, w, at).finally(() => {
      answered = true;
    });
    // Either it answered at once (leaving the uncommitted entry out), or it waits for the batch.
    await until("the balance request to answer or to wait for the batch", async () => {
      if (answered) return true;
      const r = await system.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'billing-api' AND wait_event_type = 'Lock'`,
      );
      return (r.rows[0]?.n ?? 0) > 0;
    });
    release();
    expect((await api.settle(topUp.body.id)).status).toBe("succeeded");
    const later = await balanceAt(api, w, at);

    expect(later.body).toStrictEqual({
      walletId: w,
      currency: "USD",
      at: at.toISOString(),
      balance: 150,
      version: 2,
    });
    expect((await first).body).toStrictEqual(later.body);
  });

  describe("on an api host whose clock disagrees with Postgres's", () => {
    let ahead: ApiProcess;
    let behind: ApiProcess;
    beforeAll(async () => {
      [ahead, behind] = await Promise.all([
        startApiProcess(system, fakeClock("+1h")),
        startApiProcess(system, fakeClock("-1h")),
      ]);
    });
    afterAll(async () => {
      await Promise.all([ahead?.kill(), behind?.kill()]);
    });
    const via = (p: ApiProcess) => new Api({ ...system, baseUrl: p.baseUrl }, api.key);

    it("an instant Postgres has not reached is 400, however late the api host's clock is", async () => {
      const w = await newWallet(api);
      const r = await balanceAt(via(ahead), w, new Date((await postgresNow()).getTime() + 1_800_000));
      expectProblem(r, "validation_error", { paths: ["query.at"] });
    });

    it("an instant Postgres has passed is answered, however early the api host's clock is", async () => {
      const w = await newWallet(api);
      expect((await api.settle((await api.topUp(w, 100)).body.id)).status).toBe("succeeded");
      const at = await postgresNow();
      const r = await balanceAt(via(behind), w, at);
      expect(r.body).toStrictEqual({
        walletId: w,
        currency: "USD",
        at: at.toISOString(),
        balance: 100,
        version: 1,
      });
    });
  });
});
