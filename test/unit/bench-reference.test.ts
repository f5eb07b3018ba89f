import { describe, expect, it } from "vitest";
import { parseBenchOptions } from "../../scripts/bench/bench-options.ts";
import { referenceLine } from "../../scripts/bench/bench-report.ts";
import type { PgbenchRun } from "../../scripts/bench/pg-reference.ts";

const pgbench = (tps: number, machineUsPerTransaction: number): PgbenchRun => ({
  tps,
  transactions: tps * 20,
  latencyMs: 5.8,
  seconds: 20,
  clients: 16,
  machineUsPerTransaction,
});

describe("the bench report's line on the pgbench reference", () => {
  const options = parseBenchOptions([]);

  it("gives what a transaction cost the machine, and the CPU per operation 4× asks for", () => {
    const line = referenceLine({
      options,
      pgbench: {
        before: pgbench(2849, 690),
        after: pgbench(2605, 732),
        meanTps: 2727,
        machineUsPerTransaction: 711,
      },
    });
    expect(line).toContain("before 2849 tps, after 2605 tps, **mean 2727 tps**.");
    expect(line).toContain("The machine spent 711 µs per transaction (mean of the runs)");
    expect(line).toContain("at most 178 µs of the machine per operation");
  });

  it("says nothing of the machine when pgbench did not run", () => {
    const line = referenceLine({ options, pgbench: { meanTps: 0, machineUsPerTransaction: 0 } });
    expect(line).toContain("before — tps, after — tps, **mean 0 tps**.");
    expect(line).not.toContain("machine");
  });
});
