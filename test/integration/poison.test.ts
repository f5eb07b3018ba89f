import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { auditLedger } from "../../shared/db/ledger-audit.ts";
import { Doorbells } from "../../shared/queues/doorbells.ts";
import { newClient, newWallet, waitAllSettled } from "../helpers/http.ts";
import { startSystem, type TestSystem } from "../helpers/system.ts";

const systems: TestSystem[] = [];
afterAll(async () => Promise.all(systems.map((s) => s.stop())));

describe.each([1, 50])("a poison operation, batch cap %i", (batchCap) => {
  it("is set aside as internal_error alone; the rest of its batch and partition still apply", async () => {
    const poison = new Set<string>();
    const held: number[] = [];
    const system = await startSystem({
      partitions: 2,
      batchCap,
      inProcessWorker: {
        hooks: {
          beforeApply: (id) => {
            if (poison.has(id)) throw new Error("simulated bug while applying");
          },
        },
      },
      ring: async (partitions) => {
        held.push(...partitions);
      },
    });
    systems.push(system);
    const api = await newClient(system);
    const a = await newWallet(api);
    const b = await newWallet(api);
    const ids: string[] = [(await api.topUp(a, 100)).body.id];
    for (let i = 0; i < 5; i++) ids.push((await api.transfer(a, b, 10)).body.id);
    poison.add(ids[3] as string);

    const doorbells = new Doorbells(system.redis, system.prefix, system.partitions);
    for (const p of new Set(held)) await doorbells.addJob(p);
    await waitAllSettled(system);
    await doorbells.close();

    const rows = await system.db.execute<{ id: string; status: string; failure_code: string | null }>(
      sql`SELECT id, status, failure_code FROM operations ORDER BY seq`,
    );
    expect(rows.rows.map((r) => [r.status, r.failure_code])).toEqual([
      ["succeeded", null],
      ["succeeded", null],
      ["succeeded", null],
      ["failed", "internal_error"],
      ["succeeded", null],
      ["succeeded", null],
    ]);
    expect(rows.rows[3]?.id).toBe(ids[3]);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 60, version: 5 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 40, version: 4 });
    expect((await api.settle(ids[3] as string)).failure.code).toBe("internal_error");
    expect((await auditLedger(system.db)).ok).toBe(true);
  });
});
