import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Doorbells } from "../../shared/queues/doorbells.ts";
import { type Api, newClient, newWallet, partitionOf, type Reply, walkPages } from "../helpers/http.ts";
import { operationsWithKey } from "../helpers/money.ts";
import { clusterForFile, REDIS_MODES } from "../helpers/redis-cluster.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const cluster = clusterForFile();

describe.each(REDIS_MODES)("operations ($name)", (mode) => {
  let system: TestSystem;
  let api: Api & { clientId: string };
  let doorbells: Doorbells;
  /** While true, the api's doorbells are held back (partitions collected in `held`) until released. */
  let holding = false;
  const held = new Set<number>();

  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  const MAX = Number.MAX_SAFE_INTEGER;

  beforeAll(async () => {
    system = await startSystem({
      partitions: 4,
      workerProcesses: 1,
      // No sweeper rescue during the test, and no runner lingering after the last test's ring:
      // a held operation stays pending until the test rings.
      workerSettings: { SWEEP_GRACE_MS: "3600000", BATCH_LINGER: "0" },
      // A long poll answers early only when woken by a completion message, never by a re-read.
      longPollRereadMs: 600_000,
      ...(await cluster.options(mode)),
      ring: async (partitions) => {
        if (holding) for (const p of partitions) held.add(p);
        else await doorbells.ring(partitions);
      },
    });
    doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
    api = await newClient(system);
  });
  afterAll(async () => {
    await doorbells?.close();
    await system?.stop();
  });

  async function release(partition: number): Promise<void> {
    held.delete(partition);
    await doorbells.ring([partition]);
  }

  /** The operation resource shape of docs/api.md, with the given fields fixed. */
  const operationShape = (fields: Record<string, unknown>) => ({
    id: expect.stringMatching(UUID_V7),
    type: expect.any(String),
    status: expect.any(String),
    amount: expect.any(Number),
    currency: expect.any(String),
    fromWalletId: null,
    toWalletId: expect.stringMatching(UUID_V7),
    holdId: null,
    hold: null,
    refundOf: null,
    refundedAmount: null,
    failure: null,
    metadata: {},
    createdAt: expect.stringMatching(ISO_UTC),
    completedAt: null,
    ...fields,
  });

  const expectAccepted = (r: Reply) => {
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect(r.headers.get("idempotent-replayed")).toBeNull();
  };

  /** Resolves once `n` long polls are registered with the api (its billing_long_polls_waiting gauge). */
  async function waitUntilWaiting(n: number): Promise<void> {
    for (;;) {
      const text = await (await fetch(`${system.baseUrl}/metrics`)).text();
      if (new RegExp(`^billing_long_polls_waiting ${n}$`, "m").test(text)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const walletOf = async (client: Api, id: string) => (await client.get(`/v1/wallets/${id}`)).body;

  describe("POST /v1/top-ups", () => {
    it("accepts a top-up (202, Location) and settles it: the wallet is credited once", async () => {
      const w = await newWallet(api);
      const r = await api.post(
        "/v1/top-ups",
        { walletId: w, amount: 1_250, metadata: { invoice: "INV-1", note: "été 😀" } },
        { "idempotency-key": randomUUID() },
      );
      expectAccepted(r);
      expect(r.body).toStrictEqual(
        operationShape({
          type: "top_up",
          status: "pending",
          amount: 1_250,
          currency: "USD",
          toWalletId: w,
          metadata: { invoice: "INV-1", note: "été 😀" },
        }),
      );
      const done = await api.settle(r.body.id);
      expect(done).toStrictEqual(
        operationShape({
          ...r.body,
          status: "succeeded",
          completedAt: expect.stringMatching(ISO_UTC),
        }),
      );
      expect(Date.parse(done.completedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
      expect((await api.get(`/v1/operations/${r.body.id}`)).body).toStrictEqual(done);
      expect(await walletOf(api, w)).toMatchObject({ balance: 1_250, version: 1 });
    });

    it("accepts the smallest and the largest amount, 1 and 2^53-1", async () => {
      const small = await newWallet(api);
      const large = await newWallet(api);
      expect((await api.settle((await api.topUp(small, 1)).body.id)).status).toBe("succeeded");
      const big = await api.topUp(large, MAX);
      expectAccepted(big);
      expect(big.body.amount).toBe(MAX);
      expect((await api.settle(big.body.id)).status).toBe("succeeded");
      expect(await walletOf(api, small)).toMatchObject({ balance: 1, version: 1 });
      expect(await walletOf(api, large)).toMatchObject({ balance: MAX, version: 1 });
    });

    it("tops up an EUR wallet in EUR", async () => {
      const w = await newWallet(api, { currency: "EUR" });
      const r = await api.topUp(w, 99);
      expectAccepted(r);
      expect(r.body.currency).toBe("EUR");
      expect((await api.settle(r.body.id)).status).toBe("succeeded");
      expect(await walletOf(api, w)).toMatchObject({ currency: "EUR", balance: 99 });
    });
  });

  describe("POST /v1/transfers", () => {
    it("moves money between the caller's wallets and posts one entry on each", async () => {
      const a = await newWallet(api);
      const b = await newWallet(api);
      await api.settle((await api.topUp(a, 1_000)).body.id);
      const r = await api.post(
        "/v1/transfers",
        { fromWalletId: a, toWalletId: b, amount: 400, metadata: { reason: "rent" } },
        { "idempotency-key": randomUUID() },
      );
      expectAccepted(r);
      expect(r.body).toStrictEqual(
        operationShape({
          type: "transfer",
          status: "pending",
          amount: 400,
          currency: "USD",
          fromWalletId: a,
          toWalletId: b,
          refundedAmount: 0,
          metadata: { reason: "rent" },
        }),
      );
      const done = await api.settle(r.body.id);
      expect(done).toMatchObject({ status: "succeeded", failure: null, metadata: { reason: "rent" } });
      expect(await walletOf(api, a)).toMatchObject({ balance: 600, version: 2 });
      expect(await walletOf(api, b)).toMatchObject({ balance: 400, version: 1 });
      const entries = await system.db.execute<{ wallet_id: string; amount: string }>(
        sql`SELECT wallet_id::text, amount::text FROM entries WHERE operation_id = ${done.id} ORDER BY amount`,
      );
      expect(entries.rows).toEqual([
        { wallet_id: a, amount: "-400" },
        { wallet_id: b, amount: "400" },
      ]);
    });

    it("may credit another client's wallet; that client sees the entry, not the operation", async () => {
      const payee = await newClient(system, "payee");
      const theirs = await newWallet(payee);
      const mine = await newWallet(api);
      await api.settle((await api.topUp(mine, 300)).body.id);
      const r = await api.transfer(mine, theirs, 120);
      expectAccepted(r);
      expect((await api.settle(r.body.id)).status).toBe("succeeded");
      expect(await walletOf(api, mine)).toMatchObject({ balance: 180, version: 2 });
      expect(await walletOf(payee, theirs)).toMatchObject({ balance: 120, version: 1 });
      const entries = (await payee.get(`/v1/wallets/${theirs}/entries`)).body.data;
      expect(entries).toEqual([
        expect.objectContaining({ operationId: r.body.id, amount: 120, balanceAfter: 120 }),
      ]);
      expect((await payee.get(`/v1/operations/${r.body.id}`)).status).toBe(404);
      expect((await payee.get("/v1/operations")).body.data).toEqual([]);
    });

    it("compares wallet ids case-insensitively and answers with the canonical (lower-case) id", async () => {
      const a = await newWallet(api);
      const b = await newWallet(api);
      await api.settle((await api.topUp(a, 10)).body.id);
      const k = randomUUID();
      const r = await api.transfer(a.toUpperCase(), b.toUpperCase(), 10, k);
      expectAccepted(r);
      expect(r.body).toMatchObject({ fromWalletId: a, toWalletId: b });
      const replay = await api.transfer(a, b, 10, k);
      expect(replay.status).toBe(202);
      expect(replay.body.id).toBe(r.body.id);
      expect((await api.settle(r.body.id)).status).toBe("succeeded");
      expect(await walletOf(api, b)).toMatchObject({ balance: 10, version: 1 });
    });
  });

  describe("Idempotency-Key", () => {
    it("a replay answers 202 with the same operation in its current state and Idempotent-Replayed: true; money moves once", async () => {
      const w = await newWallet(api);
      const k = randomUUID();
      const first = await api.post(
        "/v1/top-ups",
        { walletId: w, amount: 70, metadata: { a: "1", b: "2" } },
        { "idempotency-key": k },
      );
      expectAccepted(first);
      const settled = await api.settle(first.body.id);
      for (let i = 0; i < 3; i++) {
        // The same body compared canonically: the key order of the JSON does not matter.
        const again = await api.post(
          "/v1/top-ups",
          { metadata: { b: "2", a: "1" }, amount: 70, walletId: w },
          { "idempotency-key": k },
        );
        expect(again.status).toBe(202);
        expect(again.headers.get("idempotent-replayed")).toBe("true");
        expect(again.headers.get("location")).toBe(`/v1/operations/${first.body.id}`);
        expect(again.body).toStrictEqual(settled);
      }
      expect(await operationsWithKey(system, k)).toBe(1);
      expect(await walletOf(api, w)).toMatchObject({ balance: 70, version: 1 });
    });

    it("accepts a key of 255 printable ASCII characters", async () => {
      const w = await newWallet(api);
      const k = `${" !~".repeat(84)}abc`;
      expect(k).toHaveLength(255);
      const r = await api.topUp(w, 1, k);
      expectAccepted(r);
      expect((await api.topUp(w, 1, k)).body.id).toBe(r.body.id);
      await api.settle(r.body.id);
    });

    it("is scoped per client: two clients may use the same key", async () => {
      const second = await newClient(system, "second");
      const mine = await newWallet(api);
      const theirs = await newWallet(second);
      const k = randomUUID();
      const a = await api.topUp(mine, 5, k);
      const b = await second.topUp(theirs, 6, k);
      expectAccepted(a);
      expectAccepted(b);
      expect(a.body.id).not.toBe(b.body.id);
      expect(await operationsWithKey(system, k)).toBe(2);
      await api.settle(a.body.id);
      await second.settle(b.body.id);
      expect(await walletOf(api, mine)).toMatchObject({ balance: 5 });
      expect(await walletOf(second, theirs)).toMatchObject({ balance: 6 });
    });
  });

  describe("GET /v1/operations", () => {
    it("lists the caller's operations newest first, filtered by walletId (either side) and status, page by page", async () => {
      const client = await newClient(system, "lister");
      const w1 = await newWallet(client);
      const w2 = await newWallet(client);
      const w3 = await newWallet(client);
      const ids: Record<string, string> = {};
      const run = async (name: string, r: Promise<Reply>) => {
        const accepted = await r;
        expectAccepted(accepted);
        await client.settle(accepted.body.id);
        ids[name] = accepted.body.id;
      };
      await run("top1", client.topUp(w1, 100));
      await run("top2", client.topUp(w2, 50));
      await run("t12", client.transfer(w1, w2, 30));
      await run("t23fail", client.transfer(w2, w3, 1_000));
      await run("top3", client.topUp(w3, 5));
      const newestFirst = ["top3", "t23fail", "t12", "top2", "top1"].map((n) => ids[n]);
      const list = async (query: string) => {
        const r = await client.get(`/v1/operations${query}`);
        expect(r.status).toBe(200);
        return r.body;
      };

      const all = await list("");
      expect(all.nextCursor).toBeNull();
      expect(all.data.map((o: { id: string }) => o.id)).toEqual(newestFirst);
      for (const o of all.data) expect(o).toStrictEqual((await client.get(`/v1/operations/${o.id}`)).body);

      const pick = (...names: string[]) => names.map((n) => ids[n]);
      const idsOf = (page: { data: { id: string }[] }) => page.data.map((o) => o.id);
      expect(idsOf(await list(`?walletId=${w2}`))).toEqual(pick("t23fail", "t12", "top2"));
      expect(idsOf(await list(`?walletId=${w3}`))).toEqual(pick("top3", "t23fail"));
      expect(idsOf(await list("?status=failed"))).toEqual(pick("t23fail"));
      expect(idsOf(await list("?status=succeeded"))).toEqual(pick("top3", "t12", "top2", "top1"));
      expect(idsOf(await list("?status=pending"))).toEqual([]);
      expect(idsOf(await list(`?walletId=${w1}&status=succeeded`))).toEqual(pick("t12", "top1"));
      expect(idsOf(await list(`?walletId=${w1}&status=failed`))).toEqual([]);

      // Pages of two: every operation exactly once, in order, the last page without a cursor.
      const pages = (await walkPages<{ id: string }>(client, "/v1/operations", 2)).map((p) =>
        p.map((o) => o.id),
      );
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(newestFirst);

      // Filters and pages combine.
      const first = await list(`?walletId=${w2}&limit=2`);
      expect(idsOf(first)).toEqual(pick("t23fail", "t12"));
      const second = await list(`?walletId=${w2}&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`);
      expect(second).toEqual({ data: [expect.objectContaining({ id: ids.top2 })], nextCursor: null });
    });
  });

  describe("GET /v1/operations/:id?wait=N", () => {
    it("holds while pending and answers as soon as the operation settles; otherwise answers pending after N seconds", async () => {
      // Two wallets on different partitions, so that one operation can be released alone.
      const a = await newWallet(api);
      let b = await newWallet(api);
      while ((await partitionOf(system, b)) === (await partitionOf(system, a))) b = await newWallet(api);
      const pa = await partitionOf(system, a);
      const pb = await partitionOf(system, b);

      holding = true;
      try {
        const opA = (await api.topUp(a, 11)).body.id as string;
        const opB = (await api.topUp(b, 22)).body.id as string;
        expect(held).toEqual(new Set([pa, pb]));

        // ?wait=0 and no wait answer at once, with the pending state.
        expect((await api.get(`/v1/operations/${opA}?wait=0`)).body.status).toBe("pending");
        expect((await api.get(`/v1/operations/${opA}`)).body.status).toBe("pending");
        const pending = (await api.get("/v1/operations?status=pending")).body.data.map(
          (o: { id: string }) => o.id,
        );
        expect(pending).toEqual([opB, opA]);
        expect((await api.get(`/v1/operations?status=pending&walletId=${b}`)).body.data).toEqual([
          expect.objectContaining({ id: opB, status: "pending", completedAt: null }),
        ]);

        // B's long poll starts first, so without an early answer B's deadline would come first.
        let bAnswered = false;
        let aAnswered = false;
        const waitB = api.get(`/v1/operations/${opB}?wait=30`).then((r) => {
          bAnswered = true;
          return r;
        });
        const waitA = api.get(`/v1/operations/${opA}?wait=30`).then((r) => {
          aAnswered = true;
          return r;
        });
        // Nothing settles within a second: ?wait=1 answers with the current, pending state.
        const short = await api.get(`/v1/operations/${opA}?wait=1`);
        expect(short.status).toBe(200);
        expect(short.body).toMatchObject({ id: opA, status: "pending", completedAt: null });
        expect([aAnswered, bAnswered]).toEqual([false, false]);

        await release(pa);
        const answerA = await waitA;
        expect(answerA.status).toBe(200);
        expect(answerA.body).toMatchObject({
          id: opA,
          status: "succeeded",
          completedAt: expect.stringMatching(ISO_UTC),
        });
        // A was answered on settling, while B (whose deadline is earlier) is still held.
        expect(bAnswered).toBe(false);
        expect(await walletOf(api, a)).toMatchObject({ balance: 11, version: 1 });
        expect(await walletOf(api, b)).toMatchObject({ balance: 0, version: 0 });

        await release(pb);
        const answerB = await waitB;
        expect(answerB.body).toMatchObject({ id: opB, status: "succeeded" });
        expect(await walletOf(api, b)).toMatchObject({ balance: 22, version: 1 });
      } finally {
        holding = false;
        for (const p of [...held]) await release(p);
      }
    });

    it("is woken by the completion of an id written in upper case", async () => {
      const a = await newWallet(api);
      let b = await newWallet(api);
      while ((await partitionOf(system, b)) === (await partitionOf(system, a))) b = await newWallet(api);
      holding = true;
      try {
        const opA = (await api.topUp(a, 5)).body.id as string;
        const opB = (await api.topUp(b, 6)).body.id as string;
        let aAnswered = false;
        const waitA = api.get(`/v1/operations/${opA.toUpperCase()}?wait=30`).then((r) => {
          aAnswered = true;
          return r;
        });
        await waitUntilWaiting(1);
        await release(await partitionOf(system, a));
        // B stays held: its long poll answers at its deadline, after A's if A was woken.
        const control = await api.get(`/v1/operations/${opB}?wait=3`);
        expect(control.body.status).toBe("pending");
        expect(aAnswered).toBe(true);
        expect((await waitA).body).toMatchObject({ id: opA, status: "succeeded" });
      } finally {
        holding = false;
        for (const p of [...held]) await release(p);
      }
    });

    it("answers a settled operation with its final state", async () => {
      const w = await newWallet(api);
      const op = await api.settle((await api.topUp(w, 3)).body.id);
      const r = await api.get(`/v1/operations/${op.id}?wait=30`);
      expect(r.status).toBe(200);
      expect(r.body).toStrictEqual(op);
    });
  });
});
