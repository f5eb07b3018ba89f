import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Doorbells } from "../../shared/queues/doorbells.ts";
import { type Api, newClient, newWallet, type Reply } from "../helpers/http.ts";
import { expectAuditClean } from "../helpers/money.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

/**
 * A capture or a client's void accepted before its hold's `expiresAt` applies; one accepted at
 * or after it fails `hold_not_active` (docs/api.md, "Holds"). Postgres keeps these times in
 * microseconds; here both fall in one millisecond, a few hundred microseconds apart. The
 * operations are accepted through the api with their doorbells held back, their times are then
 * set in the database, and only then is the partition rung. The sweeper (which would void the
 * hold) runs every 10 minutes, after these tests.
 */
describe("a capture or void accepted within the millisecond of its hold's expiry", () => {
  let system: TestSystem;
  let api: Api;
  let doorbells: Doorbells;
  const held: number[] = [];
  /** Resolves the wait for a partition's runner to drain (its last, empty select). */
  const drains = new Map<number, () => void>();

  beforeAll(async () => {
    system = await startSystem({
      partitions: 2,
      inProcessWorker: {
        hooks: {
          afterEmptySelect: async (partition) => {
            drains.get(partition)?.();
            drains.delete(partition);
          },
        },
      },
      workerSettings: { SWEEP_INTERVAL_MS: "600000" },
      ring: async (partitions) => {
        held.push(...partitions);
      },
    });
    doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
    api = await newClient(system);
  });
  afterAll(async () => {
    await doorbells?.close();
    await system?.stop();
  });

  /**
   * Applies an accepted operation: rings the partitions of the accepts so far and waits for the
   * operation to settle and for those partitions' runners to drain, so that no runner is still
   * reading the queue when the next operation is accepted and its times set.
   */
  const settle = async (r: Reply) => {
    expect(r.status).toBe(202);
    const partitions = [...new Set(held.splice(0))];
    const drained = partitions.map((p) => new Promise<void>((resolve) => drains.set(p, resolve)));
    for (const p of partitions) await doorbells.addJob(p);
    const settled = await api.settle(r.body.id);
    await Promise.all(drained);
    return settled;
  };
  const wallet = async (id: string) => (await api.get(`/v1/wallets/${id}`)).body;

  /**
   * The hold's expiry: 900 µs into a millisecond an hour from now (in its operation and, once
   * applied, its holds row); the capture's or void's acceptance `offsetUs` from it.
   */
  async function setTimes(holdId: string, operationId: string, offsetUs: number): Promise<void> {
    await system.db.transaction(async (tx) => {
      const r = await tx.execute<{ expires_at: string }>(sql`
        UPDATE operations
        SET expires_at = date_trunc('milliseconds', now()) + interval '1 hour' + interval '900 microseconds'
        WHERE id = ${holdId}
        RETURNING expires_at::text`);
      const expiresAt = r.rows[0]?.expires_at as string;
      await tx.execute(
        sql`UPDATE holds SET expires_at = ${expiresAt}::timestamptz WHERE operation_id = ${holdId}`,
      );
      await tx.execute(sql`
        UPDATE operations
        SET created_at = ${expiresAt}::timestamptz + make_interval(secs => ${offsetUs / 1e6})
        WHERE id = ${operationId}`);
    });
    // Both in one millisecond, as the issue describes.
    const times = await system.db.execute<{ same_ms: boolean; delta_us: string }>(sql`
      SELECT date_trunc('milliseconds', c.created_at) = date_trunc('milliseconds', h.expires_at) AS same_ms,
             (extract(epoch FROM c.created_at - h.expires_at) * 1000000)::bigint::text AS delta_us
      FROM operations c JOIN operations h ON h.id = c.hold_id WHERE c.id = ${operationId}`);
    expect(times.rows[0]).toEqual({ same_ms: true, delta_us: String(offsetUs) });
  }

  const cases = [
    { what: "capture", offsetUs: -400, applied: true, result: "succeeded" },
    { what: "capture", offsetUs: -1, applied: true, result: "succeeded" },
    { what: "capture", offsetUs: 0, applied: true, result: "hold_not_active" },
    { what: "capture", offsetUs: 50, applied: true, result: "hold_not_active" },
    { what: "void", offsetUs: -400, applied: true, result: "succeeded" },
    { what: "void", offsetUs: 0, applied: true, result: "hold_not_active" },
    { what: "capture", offsetUs: -400, applied: false, result: "succeeded" },
    { what: "capture", offsetUs: 0, applied: false, result: "hold_not_active" },
    { what: "void", offsetUs: -400, applied: false, result: "succeeded" },
  ] as const;

  it.each(cases)(
    "a $what accepted $offsetUs µs from the expiry (hold applied before: $applied): $result",
    async ({ what, offsetUs, applied, result }) => {
      const a = await newWallet(api);
      const b = await newWallet(api);
      expect((await settle(await api.topUp(a, 100))).status).toBe("succeeded");
      const holdReply = await api.hold(a, b, 60);
      expect(holdReply.status).toBe(202);
      const holdId: string = holdReply.body.id;
      // Applied in an earlier batch (the batch reads the holds row), or in the same batch as the
      // capture or void (it reads the hold operation's expiry).
      if (applied) expect((await settle(holdReply)).status).toBe("succeeded");
      const op = what === "capture" ? await api.capture(holdId, 40) : await api.void(holdId);
      expect(op.status).toBe(202);
      await setTimes(holdId, op.body.id, offsetUs);

      const settled = await settle(op);
      expect(settled.status === "succeeded" ? "succeeded" : settled.failure.code).toBe(result);
      expect((await api.settle(holdId)).status).toBe("succeeded");
      const hold = (await api.get(`/v1/operations/${holdId}`)).body.hold;
      if (result === "hold_not_active") {
        expect(hold.status).toBe("active");
        expect(await wallet(a)).toMatchObject({ balance: 100, heldBalance: 60, availableBalance: 40 });
        expect(await wallet(b)).toMatchObject({ balance: 0, version: 0 });
      } else if (what === "capture") {
        expect(hold).toMatchObject({ status: "captured", capturedAmount: 40 });
        expect(await wallet(a)).toMatchObject({
          balance: 60,
          heldBalance: 0,
          availableBalance: 60,
          version: 2,
        });
        expect(await wallet(b)).toMatchObject({ balance: 40, version: 1 });
      } else {
        expect(hold.status).toBe("voided");
        expect(await wallet(a)).toMatchObject({
          balance: 100,
          heldBalance: 0,
          availableBalance: 100,
          version: 1,
        });
        expect(await wallet(b)).toMatchObject({ balance: 0, version: 0 });
      }
      await expectAuditClean(system);
    },
  );
});
