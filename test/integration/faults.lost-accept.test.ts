import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { expectAuditClean, operationsWithKey } from "../helpers/money.ts";
import { PG_SERVER_URL } from "../helpers/services.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/throwaway.ts";

/**
 * The accept's insert reaches Postgres and commits, and its answer is lost on the way back (the
 * connection reset before the reply): the api must not answer 503 "nothing was created" for an
 * operation that exists, and will be applied (a client that believed it and paid again under a
 * new key would pay twice). It reads the keys back and answers what is true of each. A proxy
 * between one api and Postgres drops the reply to the insert statement (its name marks it), or
 * the statement itself, or every new connection.
 */

const INSERT = "operations.insert-pending-many";

let system: TestSystem;
let proxy: TcpProxy;
/** A client of the api behind the proxy. */
let api: Api;
let a: string;
let b: string;

beforeAll(async () => {
  system = await startSystem({ partitions: 2, workerProcesses: 1 });
  proxy = await startTcpProxy(Number(new URL(PG_SERVER_URL).port));
  const proxied = new URL(system.databaseUrl);
  proxied.port = String(proxy.port);
  const direct = await newClient(system);
  a = await newWallet(direct);
  b = await newWallet(direct);
  await direct.settle((await direct.topUp(a, 1_000)).body.id);
  const extra = await system.startExtraApi({ DATABASE_URL: proxied.toString() });
  api = new Api({ ...system, baseUrl: extra.baseUrl }, direct.key);
}, 120_000);
afterAll(async () => {
  await system?.stop();
  await proxy?.close();
});

const balances = async () => {
  const r = await system.db.execute<{ id: string; balance: string }>(
    sql`SELECT id::text, balance::text FROM wallets WHERE id IN (${a}, ${b}) ORDER BY id = ${b}`,
  );
  return r.rows.map((w) => Number(w.balance));
};

describe("an accept whose insert committed but whose answer was lost", () => {
  it("a single request: 202 with the operation, applied once", async () => {
    const [fromBefore, toBefore] = await balances();
    const key = randomUUID();
    proxy.loseReplyTo(INSERT);
    const r = await api.transfer(a, b, 7, key);
    expect(r.status).toBe(202);
    expect(r.headers.get("location")).toBe(`/v1/operations/${r.body.id}`);
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    expect((await api.settle(r.body.id)).status).toBe("succeeded");
    expect(await operationsWithKey(system, key)).toBe(1);
    expect(await balances()).toEqual([(fromBefore as number) - 7, (toBefore as number) + 7]);
    // A retry under the key is a replay of that operation, not a second one.
    const again = await api.transfer(a, b, 7, key);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(r.body.id);
    expect(await operationsWithKey(system, key)).toBe(1);
  });

  it("a bulk: every item 202 with its operation, each applied once", async () => {
    const [fromBefore, toBefore] = await balances();
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    proxy.loseReplyTo(INSERT);
    const r = await api.post("/v1/operations/bulk", {
      operations: keys.map((idempotencyKey, i) => ({
        type: "transfer",
        idempotencyKey,
        fromWalletId: a,
        toWalletId: b,
        amount: i + 1,
      })),
    });
    expect(r.status).toBe(200);
    expect(r.body.data.map((d: { status: number }) => d.status)).toEqual([202, 202, 202]);
    for (const d of r.body.data) expect((await api.settle(d.operation.id)).status).toBe("succeeded");
    for (const key of keys) expect(await operationsWithKey(system, key)).toBe(1);
    expect(await balances()).toEqual([(fromBefore as number) - 6, (toBefore as number) + 6]);
  });
});

describe("an accept whose insert never reached Postgres", () => {
  it("503 saying nothing was created, and nothing was; the retry under the key creates it once", async () => {
    const key = randomUUID();
    proxy.cutBefore(INSERT);
    const r = await api.transfer(a, b, 3, key);
    expect(r.status).toBe(503);
    expect(r.body.code).toBe("overloaded");
    expect(r.body.detail).toContain("nothing was created");
    expect(await operationsWithKey(system, key)).toBe(0);
    const retry = await api.transfer(a, b, 3, key);
    expect(retry.status).toBe(202);
    expect((await api.settle(retry.body.id)).status).toBe("succeeded");
    expect(await operationsWithKey(system, key)).toBe(1);
  });
});

describe("an accept whose answer was lost while Postgres stays unreachable", () => {
  it("503 that does not claim nothing was created; once reachable, a retry answers the operation that exists", async () => {
    const key = randomUUID();
    proxy.loseReplyTo(INSERT, { thenUnreachable: true });
    const r = await api.transfer(a, b, 4, key).finally(() => proxy.refuseNew(false));
    expect(r.status).toBe(503);
    expect(r.body.detail).not.toContain("nothing was created");
    expect(r.body.detail).toContain("may or may not have been accepted");
    expect(await operationsWithKey(system, key)).toBe(1);
    const retry = await api.transfer(a, b, 4, key);
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    await waitAllSettled(system);
    expect(await operationsWithKey(system, key)).toBe(1);
    await expectAuditClean(system);
  });
});
