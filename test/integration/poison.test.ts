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

/** An error as the pg driver raises it, with its SQLSTATE. */
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("resource outages are not an operation's fault", () => {
  it.each([1, 50])(
    "batch cap %i: a transient failure after the select, then out of connections (53300) before the next: the operation succeeds",
    async (batchCap) => {
      const faults: ("after-select" | "before-batch")[] = [];
      const system = await startSystem({
        partitions: 2,
        batchCap,
        inProcessWorker: {
          hooks: {
            beforeBatch: async () => {
              if (faults[0] === "before-batch") {
                faults.shift();
                throw pgError("53300", "sorry, too many clients already");
              }
            },
            afterLockPending: async () => {
              if (faults[0] === "after-select") {
                faults.shift();
                throw pgError("40P01", "deadlock detected");
              }
            },
          },
        },
      });
      systems.push(system);
      const api = await newClient(system);
      const a = await newWallet(api);
      await api.settle((await api.topUp(a, 100)).body.id);
      faults.push("after-select", "before-batch");
      const op = await api.settle((await api.topUp(a, 5)).body.id);
      expect(faults).toEqual([]);
      expect(op.status).toBe("succeeded");
      expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 105, version: 2 });
      expect((await auditLedger(system.db)).ok).toBe(true);
    },
  );

  it.each([
    ["53200", "out of memory"],
    ["53100", "could not extend file: No space left on device"],
    ["57014", "canceling statement due to statement timeout"],
  ])("%s (%s) inside every batch for a while: operations wait, none is set aside", async (code, message) => {
    let failures = 0;
    const system = await startSystem({
      partitions: 2,
      batchCap: 50,
      inProcessWorker: {
        hooks: {
          afterLockPending: async () => {
            if (failures > 0) {
              failures--;
              throw pgError(code, message);
            }
          },
        },
      },
    });
    systems.push(system);
    const api = await newClient(system);
    const a = await newWallet(api);
    await api.settle((await api.topUp(a, 100)).body.id);
    failures = 6;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.topUp(a, 1)).body.id);
    for (const id of ids) expect((await api.settle(id)).status).toBe("succeeded");
    expect(failures).toBe(0);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 103, version: 4 });
  });
});
