import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, WRITE_PATH_SETTINGS } from "../../shared/db/client.ts";
import { runPartition } from "../../worker/partition-runner.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { acceptTopUps, runnerDeps } from "../helpers/runner.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * The write path's statements take their rows as arrays. Under Postgres's default plan cache,
 * one with a row or two is planned anew at every execution (a plan for its actual arrays looks
 * cheaper than the generic one), and planning cost more than executing: a quiet minute's
 * accepts and batches paid twice the CPU per operation. The pools that run them
 * (WRITE_PATH_SETTINGS: the api's accept pool, the workers') plan each once per connection.
 * Counted from each session's own `pg_prepared_statements`, on pools of one connection; the
 * system runs no worker, the test runs the partition's runner itself.
 */

let system: TestSystem;
let api: Api & { clientId: string };

beforeAll(async () => {
  system = await startSystem({ partitions: 1 });
  api = await newClient(system);
});
afterAll(async () => system?.stop());

/** Plans made by the session of `pool` (one connection), by statement name. */
type Plans = Map<string, { generic: number; custom: number }>;

/**
 * Accepts `amounts` as top-ups of `walletId` one by one (a group of one row each), then applies
 * them with a runner capped at one operation per batch, each on a one-connection pool with
 * `settings`; returns the plans each session made.
 */
async function acceptAndApply(
  walletId: string,
  amounts: number[],
  settings: Record<string, string>,
): Promise<{ accept: Plans; batch: Plans }> {
  const open = (name: string) =>
    openDb({ url: system.databaseUrl, poolSize: 1, applicationName: name, sessionSettings: settings });
  const accepts = open("test-accepts");
  const batches = open("test-batches");
  try {
    await acceptTopUps(accepts.pool, api.clientId, walletId, amounts);
    expect(await runPartition(0, runnerDeps(batches.pool, { batchCap: () => 1 }))).toBe("drained");
    return { accept: await plansOf(accepts.pool), batch: await plansOf(batches.pool) };
  } finally {
    await Promise.all([accepts.close(), batches.close()]);
  }
}

async function plansOf(pool: pg.Pool): Promise<Plans> {
  const r = await pool.query<{ name: string; generic: string; custom: string }>(
    "SELECT name, generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements",
  );
  return new Map(
    r.rows.map((row) => [row.name, { generic: Number(row.generic), custom: Number(row.custom) }]),
  );
}

const balanceOf = async (walletId: string) => (await api.get(`/v1/wallets/${walletId}`)).body.balance;
const entriesOf = async (walletId: string) =>
  (await api.get(`/v1/wallets/${walletId}/entries?limit=100`)).body.data as { amount: number }[];

/** The statements of one row each that the test counts: the accept insert, and each batch's. */
const ACCEPT = "operations.insert-pending-many";
const BATCH = ["batch.lock-partitions", "batch.read-pending", "batch.lock-wallets", "batch.write"];

describe("the write path's plans", () => {
  it("are made once per connection on the write-path pools, however few the rows", async () => {
    const w = await newWallet(api);
    const amounts = [1, 2, 3, 4, 5, 6, 7, 8];
    const { accept, batch } = await acceptAndApply(w, amounts, WRITE_PATH_SETTINGS);

    expect(await balanceOf(w)).toBe(36);
    expect((await entriesOf(w)).map((e) => e.amount)).toEqual([...amounts].reverse());
    expect(accept.get(ACCEPT)).toEqual({ generic: amounts.length, custom: 0 });
    for (const name of BATCH) expect(batch.get(name), name).toMatchObject({ custom: 0 });
    // One batch per operation, each statement executed with the one generic plan.
    expect(batch.get("batch.write")).toEqual({ generic: amounts.length, custom: 0 });
  });

  it("are made anew at each execution under Postgres's default (what the settings prevent)", async () => {
    const w = await newWallet(api);
    const amounts = [10, 20, 30, 40, 50, 60, 70, 80];
    const { accept, batch } = await acceptAndApply(w, amounts, {});

    expect(await balanceOf(w)).toBe(360);
    expect((await entriesOf(w)).map((e) => e.amount)).toEqual([...amounts].reverse());
    // Postgres makes at least five custom plans before it weighs the generic one, and with one
    // row the custom plan keeps winning.
    expect(accept.get(ACCEPT)?.custom).toBeGreaterThanOrEqual(5);
    for (const name of BATCH) expect(batch.get(name)?.custom, name).toBeGreaterThanOrEqual(5);
  });
});
