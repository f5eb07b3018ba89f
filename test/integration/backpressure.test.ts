import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { insertPendingMany, type NewPendingOperation } from "../../shared/db/operation-batch-repo.ts";
import { countPendingByPartition } from "../../shared/db/operation-repo.ts";
import { newId } from "../../shared/ids.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { expectNothingMoved, moneySnapshot, operationsWithKey } from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { type SystemOptions, startSystem, type TestSystem } from "../helpers/system.ts";

/** Sum of the sampled backlog gauge over all partitions. */
async function sampledBacklog(system: TestSystem): Promise<number> {
  const samples = await scrape(`${system.baseUrl}/metrics`);
  return samples.filter((s) => s.name === "billing_backlog_operations").reduce((a, s) => a + s.value, 0);
}

/**
 * This describe's system (started and stopped by its hooks), with a client and a wallet. Its
 * accepts whose metadata is `{ hold: "yes" }` ({@link heldTopUp}) wait after their insert
 * committed, until `release()`.
 */
function gatedSystem(options: SystemOptions) {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const suite = { system: {} as TestSystem, api: {} as Api, wallet: "", release: () => open() };
  beforeAll(async () => {
    suite.system = await startSystem({
      ...options,
      afterInsert: async (op) => {
        if (op.metadata.hold === "yes") await opened;
      },
    });
    suite.api = await newClient(suite.system);
    suite.wallet = await newWallet(suite.api);
  });
  afterAll(async () => {
    open();
    await suite.system.stop?.();
  });
  return suite;
}

const heldTopUp = (api: Api, walletId: string, amount: number, key: string) =>
  api.post("/v1/top-ups", { walletId, amount, metadata: { hold: "yes" } }, { "idempotency-key": key });

describe("backlog bound: workers stopped, BACKPRESSURE_MAX_PENDING=5", () => {
  let system: TestSystem;
  let api: Api;
  let wallet: string;
  let eurWallet: string;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "5" } });
    api = await newClient(system);
    wallet = await newWallet(api);
    eurWallet = await newWallet(api, { currency: "EUR" });
    // One attempt each: an accept that has ended is counted exactly once, whenever the api's
    // backlog samples run (docs/operations.md, Backpressure).
    for (let i = 0; i < 5; i++) expect((await api.topUp(wallet, 100, `k${i}`)).status).toBe(202);
    // The sampler runs every 250 ms; once it has seen the five, new operations are refused.
    await vi.waitFor(async () => expect(await sampledBacklog(system)).toBe(5), {
      timeout: 10_000,
      interval: 50,
    });
  });
  afterAll(async () => system?.stop());

  it("a new top-up or transfer gets 503 overloaded with Retry-After, and nothing is created", async () => {
    const before = await moneySnapshot(system);
    const other = await newWallet(api);
    const snapshot = await moneySnapshot(system);
    const r = await api.topUp(wallet, 100, "over");
    expectProblem(r, "overloaded");
    expect(r.headers.get("retry-after")).toBe("2");
    const t = await api.transfer(wallet, other, 1, "over-transfer");
    expectProblem(t, "overloaded");
    expect(await operationsWithKey(system, "over")).toBe(0);
    expect(await operationsWithKey(system, "over-transfer")).toBe(0);
    await expectNothingMoved(system, snapshot);
    expect(before.operations).toBe(5);
  });

  it("a bulk submission gets 503 overloaded as a whole, with Retry-After, and nothing is created", async () => {
    const snapshot = await moneySnapshot(system);
    const r = await api.post("/v1/operations/bulk", {
      operations: [
        { type: "top_up", idempotencyKey: "bulk-over-1", walletId: wallet, amount: 1 },
        { type: "top_up", idempotencyKey: "bulk-over-2", walletId: wallet, amount: 1 },
      ],
    });
    expectProblem(r, "overloaded");
    expect(r.headers.get("retry-after")).toBe("2");
    expect(await operationsWithKey(system, "bulk-over-1")).toBe(0);
    await expectNothingMoved(system, snapshot);
  });

  it("a replay is still answered (202, Idempotent-Replayed), and a reused key is still 422", async () => {
    const replay = await api.topUp(wallet, 100, "k0");
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expectProblem(await api.topUp(wallet, 101, "k0"), "idempotency_key_reused");
  });

  it("checks that come before backpressure still answer first: 400, 404, 422", async () => {
    expectProblem(await api.topUp(wallet, 0, "bad-amount"), "validation_error");
    expectProblem(await api.topUp(randomUUID(), 100, "no-wallet"), "wallet_not_found");
    expectProblem(await api.transfer(wallet, eurWallet, 1, "mixed"), "currency_mismatch");
  });

  it("reads are not refused; the refusals are counted by reason", async () => {
    expect((await api.get(`/v1/wallets/${wallet}`)).status).toBe(200);
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_requests_refused_total", { reason: "backlog" })).toBe(3);
  });

  it("once a worker drains the backlog, the refused request goes through under its key", async () => {
    await system.spawnWorker();
    await expect
      .poll(async () => (await api.topUp(wallet, 100, "over")).status, { timeout: 30_000, interval: 250 })
      .toBe(202);
    const op = (await api.topUp(wallet, 100, "over")).body;
    await api.settle(op.id);
    expect((await api.get(`/v1/wallets/${wallet}`)).body).toMatchObject({ balance: 600, version: 6 });
    expect(await operationsWithKey(system, "over")).toBe(1);
  });
});

describe("an accept that a sample counted while it was in flight: workers stopped, BACKPRESSURE_MAX_PENDING=6", () => {
  const gated = gatedSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "6" } });

  it("counts once from the moment it ends: the bound's last place is free at once, and then taken", async () => {
    const { system, api, wallet } = gated;
    for (let i = 0; i < 4; i++) expect((await api.topUp(wallet, 100, `k${i}`)).status).toBe(202);
    const held = heldTopUp(api, wallet, 100, "held");
    // Its row is committed and a sample has counted it while its request is still in flight.
    await vi.waitFor(async () => expect(await sampledBacklog(system)).toBe(5), {
      timeout: 10_000,
      interval: 50,
    });
    gated.release();
    expect((await held).status).toBe(202);
    // Without waiting for another sample: five pending, one place left.
    expect((await api.topUp(wallet, 100, "sixth")).status).toBe(202);
    const snapshot = await moneySnapshot(system);
    expectProblem(await api.topUp(wallet, 100, "seventh"), "overloaded");
    expect(await operationsWithKey(system, "seventh")).toBe(0);
    await expectNothingMoved(system, snapshot);
    expect(snapshot.operations).toBe(6);
  });
});

describe("the backlog sample and the accept insert name the same transactions", () => {
  let system: TestSystem;
  let api: Api & { clientId: string };
  let wallet: string;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2 });
    api = await newClient(system);
    wallet = await newWallet(api);
  });
  afterAll(async () => system?.stop());

  const topUp = (key: string): NewPendingOperation => ({
    id: newId(),
    clientId: api.clientId,
    type: "top_up",
    amount: 5n,
    currency: "USD",
    fromWalletId: null,
    toWalletId: wallet,
    holdId: null,
    expiresInSeconds: null,
    metadata: {},
    partition: 1,
    idempotencyKey: key,
    requestHash: key,
  });
  const sample = () => countPendingByPartition(system.db, 2, 100);

  it("a sample sees a committed insert's transaction and counts its rows; not one still open, until it commits", async () => {
    const committed = await insertPendingMany(system.db.$client, [topUp("c1"), topUp("c2")]);
    const open = await system.db.$client.connect();
    try {
      await open.query("BEGIN");
      const pending = await insertPendingMany(open, [topUp("o1")]);
      const during = await sample();
      expect(during.perPartition).toEqual([0, 2]);
      expect(during.snapshot.sees(committed.xid as bigint)).toBe(true);
      expect(during.snapshot.sees(pending.xid as bigint)).toBe(false);
      await open.query("COMMIT");
      const after = await sample();
      expect(after.perPartition).toEqual([0, 3]);
      expect(after.snapshot.sees(pending.xid as bigint)).toBe(true);
    } finally {
      open.release();
    }
    // A statement that inserts nothing (the keys are taken) names no transaction.
    expect((await insertPendingMany(system.db.$client, [topUp("c1")])).xid).toBeUndefined();
    expect((await sample()).perPartition).toEqual([0, 3]);
  });
});

describe("the backlog bound counts a bulk's items: workers stopped, BACKPRESSURE_MAX_PENDING=100", () => {
  let system: TestSystem;
  let api: Api;
  let wallet: string;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "100" } });
    api = await newClient(system);
    wallet = await newWallet(api);
  });
  afterAll(async () => system?.stop());

  const bulk = (prefix: string, items: number) =>
    api.post("/v1/operations/bulk", {
      operations: Array.from({ length: items }, (_, i) => ({
        type: "top_up",
        idempotencyKey: `${prefix}-${i}`,
        walletId: wallet,
        amount: 1,
      })),
    });

  it("concurrent bulks between two backlog samples are admitted only up to the bound; the others create nothing", async () => {
    // Eight bulks of 30 at once: all within one sample interval, as the backlog was empty.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, k) => bulk(`b${k}`, 30)));
    const admitted = answers.filter((r) => r.status === 200);
    for (const r of admitted)
      expect(r.body.data.every((d: { status: number }) => d.status === 202)).toBe(true);
    for (const r of answers.filter((r) => r.status !== 200)) expectProblem(r, "overloaded");
    const created = (await moneySnapshot(system)).operations;
    expect(created).toBe(admitted.length * 30);
    expect(created).toBeLessThanOrEqual(100);
    expect(admitted.length).toBeGreaterThan(0);
  });

  it("an empty backlog still admits a bulk larger than the bound", async () => {
    const other = await startSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "10" } });
    try {
      const client = await newClient(other);
      const w = await newWallet(client);
      const r = await client.post("/v1/operations/bulk", {
        operations: Array.from({ length: 20 }, (_, i) => ({
          type: "top_up",
          idempotencyKey: `big-${i}`,
          walletId: w,
          amount: 1,
        })),
      });
      expect(r.status).toBe(200);
      expect(r.body.data.every((d: { status: number }) => d.status === 202)).toBe(true);
      expect((await moneySnapshot(other)).operations).toBe(20);
    } finally {
      await other.stop();
    }
  });
});

describe("in-flight bound: BACKPRESSURE_MAX_IN_FLIGHT=2", () => {
  const gated = gatedSystem({
    partitions: 2,
    workerProcesses: 1,
    apiSettings: { BACKPRESSURE_MAX_IN_FLIGHT: "2" },
  });

  it("a third accept while two are in progress gets 503 overloaded; the two then complete", async () => {
    const { system, api, wallet } = gated;
    const held = ["h1", "h2"].map((key) => heldTopUp(api, wallet, 10, key));
    const inFlight = async () =>
      sampleValue(await scrape(`${system.baseUrl}/metrics`), "billing_accepts_in_flight");
    await expect.poll(inFlight, { timeout: 10_000 }).toBe(2);

    const third = await api.topUp(wallet, 10, "third");
    expectProblem(third, "overloaded");
    expect(third.headers.get("retry-after")).toBe("1");
    expect(await operationsWithKey(system, "third")).toBe(0);

    gated.release();
    const answers = await Promise.all(held);
    expect(answers.map((r) => r.status)).toEqual([202, 202]);
    const after = await api.topUp(wallet, 10, "third");
    expect(after.status).toBe(202);
    for (const r of [...answers, after]) await api.settle(r.body.id);
    expect((await api.get(`/v1/wallets/${wallet}`)).body).toMatchObject({ balance: 30, version: 3 });
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_requests_refused_total", { reason: "in_flight" })).toBe(1);
  });
});
