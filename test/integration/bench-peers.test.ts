import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH, type PeerName, peerBooks, peerRun, peersInit } from "../../scripts/bench/ledger-peers.ts";
import { dropDatabase, withPg } from "../../scripts/bench/pg-reference.ts";
import { PG_SERVER_URL } from "../helpers/services.ts";

/**
 * The ledger peers `npm run bench` measures beside pgbench (scripts/bench/ledger-peers.ts): a
 * ratio to them means something only if they are ledgers, so each run is checked as one.
 */
describe("the bench's ledger peers", () => {
  const database = `billing_peers_${randomBytes(4).toString("hex")}`;
  beforeAll(() => peersInit(PG_SERVER_URL, database));
  afterAll(() => dropDatabase(PG_SERVER_URL, database));

  it.each<PeerName>(["single", "batched"])(
    "%s: pgbench's transactions are transfers, and the accounts still hold every unit",
    async (peer) => {
      const before = await peerBooks(PG_SERVER_URL, database);
      const r = await peerRun(PG_SERVER_URL, database, peer, 1);
      const after = await peerBooks(PG_SERVER_URL, database);

      const perTransaction = peer === "batched" ? BATCH : 1;
      expect(r.pgbench.transactions).toBeGreaterThan(0);
      expect(after.transfers - before.transfers).toBe(r.pgbench.transactions * perTransaction);
      expect(r.transfersPerSec).toBe(Math.round(r.pgbench.tps * perTransaction));
      expect(after.total).toBe(after.opening);
      expect(after.negative).toBe(0);
    },
  );

  it("refuses a transfer the debited account cannot pay, in either lock order, and writes nothing", async () => {
    await withPg(PG_SERVER_URL, database, async (c) => {
      const balances = async () =>
        (
          await c.query<{ id: number; balance: string }>(
            "SELECT id, balance::text FROM accounts WHERE id IN (7, 8) ORDER BY id",
          )
        ).rows;
      const transfers = async () =>
        (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM transfers")).rows[0]?.n;
      const was = await balances();
      const count = await transfers();
      for (const [a, b] of [
        [7, 8],
        [8, 7],
      ]) {
        const r = await c.query<{ ok: boolean }>("SELECT transfer($1, $2, 2000000000000) AS ok", [a, b]);
        expect(r.rows[0]?.ok).toBe(false);
      }
      expect(await balances()).toEqual(was);
      expect(await transfers()).toBe(count);

      const paid = await c.query<{ ok: boolean }>("SELECT transfer(8, 7, 5) AS ok");
      expect(paid.rows[0]?.ok).toBe(true);
      expect(
        (await balances()).map(
          (w) => BigInt(w.balance) - BigInt(was.find((x) => x.id === w.id)?.balance ?? 0),
        ),
      ).toEqual([5n, -5n]);
    });
  });
});
