import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { type Api, newClient, newWallet } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";
import { startPostgres, startTcpProxy, type TcpProxy, type ThrowawayPostgres } from "../helpers/throwaway.ts";

/**
 * A worker's connection goes silent in the middle of a batch (its packets are dropped, nothing
 * resets it: a failover that does not reset connections). The client-side query timeout gives
 * the connection up, the batch is retried on a new one, and the operation settles once.
 */

let postgres: ThrowawayPostgres;
let proxy: TcpProxy;
let system: TestSystem;
let api: Api;
/** While set, the next batch (the test's transfer: nothing else is pending) freezes its own connection. */
let freezeNext = false;
let froze = 0;

beforeAll(async () => {
  postgres = await startPostgres();
  proxy = await startTcpProxy(Number(new URL(postgres.serverUrl).port));
  system = await startSystem({ partitions: 2, pgServerUrl: postgres.serverUrl });
  const proxied = new URL(system.databaseUrl);
  proxied.port = String(proxy.port);
  await system.startInProcessWorker(
    {
      afterLockPending: async () => {
        if (freezeNext) {
          freezeNext = false;
          froze++;
          // The batch's next statement (the wallet locks) goes into a dead connection.
          proxy.freeze();
        }
      },
    },
    {},
    // Only the worker goes through the proxy; 2 s statements, so the client gives up after 7 s.
    { DATABASE_URL: proxied.toString(), DB_STATEMENT_TIMEOUT_MS: "2000" },
  );
  api = await newClient(system);
}, 120_000);
afterAll(async () => {
  await system?.stop();
  await proxy?.close();
  await postgres?.stop();
});

describe("a connection that dies silently mid-batch", () => {
  it("is given up after the client-side timeout; the batch is retried on a new connection and applied once", async () => {
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);

    freezeNext = true;
    const op = (await api.transfer(a, b, 30)).body.id as string;
    const done = await api.settle(op);
    expect(froze).toBe(1);
    expect(done.status).toBe("succeeded");
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 70, version: 2 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 30, version: 1 });
    const entries = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM entries WHERE operation_id = ${op}`,
    );
    expect(entries.rows[0]?.n).toBe(2);
    expect((await auditLedger(system.db)).ok).toBe(true);
  });
});
