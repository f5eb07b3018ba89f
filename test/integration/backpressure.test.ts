import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { insertPendingMany, type NewPendingOperation } from "../../shared/db/operation-batch-repo.ts";
import { countPendingByPartition } from "../../shared/db/operation-repo.ts";
import { newId } from "../../shared/ids.ts";
import { type Api, newClient, newWallet, type Reply } from "../helpers/http.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { expectNothingMoved, moneySnapshot, operationsWithKey } from "../helpers/money.ts";
import { expectProblem } from "../helpers/problem.ts";
import { type SystemOptions, startSystem, type TestSystem } from "../helpers/system.ts";

/** Sum of the sampled backlog gauge over all partitions. */
async function sampledBacklog(system: TestSystem): Promise<number> {
  const samples = await scrape(`${system.baseUrl}/metrics`);
  return samples.filter((s) => s.name === "billing_backlog_operations").reduce((a, s) => a + s.value, 0);
}

/** Waits until the api's backlog sample (every 250 ms) counts `n` pending operations. */
async function backlogSampled(system: TestSystem, n: number): Promise<void> {
  await vi.waitFor(async () => expect(await sampledBacklog(system)).toBe(n), {
    timeout: 10_000,
    interval: 50,
  });
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
    await backlogSampled(system, 5);
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

  it("a bulk none of whose items would create an operation is answered; one new item refuses it whole", async () => {
    const snapshot = await moneySnapshot(system);
    const topUp = (idempotencyKey: string, amount: number) => ({
      type: "top_up",
      idempotencyKey,
      walletId: wallet,
      amount,
    });
    const answered = await api.post("/v1/operations/bulk", {
      operations: [
        topUp("k0", 100),
        topUp("k1", 100),
        topUp("bad-amount", 0),
        topUp("k2", 101),
        topUp("k0", 100),
      ],
    });
    expect(answered.status).toBe(200);
    const [k0, k1, bad, reused, again] = answered.body.data;
    expect(k0).toMatchObject({ status: 202, replayed: true, operation: { status: "pending", amount: 100 } });
    expect(k1).toMatchObject({ status: 202, replayed: true });
    expect(bad).toMatchObject({ status: 400, error: { code: "validation_error" } });
    expect(reused).toMatchObject({ status: 422, error: { code: "idempotency_key_reused" } });
    expect(again).toMatchObject({ status: 202, replayed: true, operation: { id: k0.operation.id } });
    expect((await api.topUp(wallet, 100, "k0")).body.id).toBe(k0.operation.id);

    const refused = await api.post("/v1/operations/bulk", {
      operations: [topUp("k0", 100), topUp("bulk-over-3", 1)],
    });
    expectProblem(refused, "overloaded");
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(await operationsWithKey(system, "bulk-over-3")).toBe(0);
    await expectNothingMoved(system, snapshot);
  });

  it("checks that come before backpressure still answer first: 400, 404, 422", async () => {
    expectProblem(await api.topUp(wallet, 0, "bad-amount"), "validation_error");
    expectProblem(await api.topUp(randomUUID(), 100, "no-wallet"), "wallet_not_found");
    expectProblem(await api.transfer(wallet, eurWallet, 1, "mixed"), "currency_mismatch");
  });

  it("reads are not refused; the refusals are counted by reason", async () => {
    expect((await api.get(`/v1/wallets/${wallet}`)).status).toBe(200);
    const samples = await scrape(`${system.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_requests_refused_total", { reason: "backlog" })).toBe(4);
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

describe("holds' and refunds' own checks come before backpressure: BACKPRESSURE_MAX_PENDING=2", () => {
  let system: TestSystem;
  let alice: Api;
  let bob: Api;
  let hold: string;
  let transfer: string;

  beforeAll(async () => {
    system = await startSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "2" } });
    const worker = await system.spawnWorker();
    alice = await newClient(system, "alice");
    bob = await newClient(system, "bob");
    const a = await newWallet(alice);
    const b = await newWallet(bob);
    // A bound of 2 refuses while a sample (every 250 ms) still counts operations settled or
    // accepted since: each step is sent again, under its key, until accepted.
    const accepted = (send: () => Promise<Reply>): Promise<Reply> =>
      vi.waitFor(
        async () => {
          const sent = await send();
          expect(sent.status).toBe(202);
          return sent;
        },
        { timeout: 10_000, interval: 100 },
      );
    const applied = async (api: Api, send: (key: string) => Promise<Reply>): Promise<string> => {
      const key = randomUUID();
      return (await api.settle((await accepted(() => send(key))).body.id)).id;
    };
    await applied(alice, (k) => alice.topUp(a, 1_000, k));
    hold = await applied(alice, (k) => alice.hold(a, b, 100, {}, k));
    transfer = await applied(alice, (k) => alice.transfer(a, b, 50, k));
    await applied(bob, () => bob.refund(transfer, 5, {}, "refund-before"));
    await system.terminateWorker(worker);
    for (const k of ["fill-1", "fill-2"]) await accepted(() => alice.topUp(a, 1, k));
    await backlogSampled(system, 2);
  });
  afterAll(async () => system?.stop());

  it("404 and 422 answer first, a replay is answered, and only a new acceptable request gets 503", async () => {
    const before = await moneySnapshot(system);
    expectProblem(await alice.capture(randomUUID(), 10), "hold_not_found");
    expectProblem(await alice.capture(hold, 101), "amount_exceeds_hold");
    expectProblem(await alice.capture(hold, 10, "capture-over"), "overloaded");
    expectProblem(await alice.void(hold, "void-over"), "overloaded");
    expectProblem(await bob.refund(randomUUID(), 1), "operation_not_found");
    expectProblem(await bob.refund(hold, 1), "operation_not_refundable");
    expectProblem(await bob.refund(transfer, 51), "amount_exceeds_refundable");
    expectProblem(await bob.refund(transfer, 1, {}, "refund-over"), "overloaded");
    const replay = await bob.refund(transfer, 5, {}, "refund-before");
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toMatchObject({ status: "succeeded", refundOf: transfer, amount: 5 });
    expectProblem(await bob.refund(transfer, 6, {}, "refund-before"), "idempotency_key_reused");
    for (const k of ["capture-over", "void-over"]) expect(await operationsWithKey(system, k)).toBe(0);
    expect(await operationsWithKey(system, "refund-over")).toBe(0);
    await expectNothingMoved(system, before);
    expect((await alice.get(`/v1/operations/${transfer}`)).body.refundedAmount).toBe(5);
  });
});

describe("an accept that a sample counted while it was in flight: workers stopped, BACKPRESSURE_MAX_PENDING=6", () => {
  const gated = gatedSystem({ partitions: 2, apiSettings: { BACKPRESSURE_MAX_PENDING: "6" } });

  it("counts once from the moment it ends: the bound's last place is free at once, and then taken", async () => {
    const { system, api, wallet } = gated;
    for (let i = 0; i < 4; i++) expect((await api.topUp(wallet, 100, `k${i}`)).status).toBe(202);
    const held = heldTopUp(api, wallet, 100, "held");
    // Its row is committed and a sample has counted it while its request is still in flight.
    await backlogSampled(system, 5);
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
