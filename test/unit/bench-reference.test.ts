import { describe, expect, it } from "vitest";
import { parseBenchOptions } from "../../scripts/bench/bench-options.ts";
import { peersLine, referenceLine } from "../../scripts/bench/bench-report.ts";
import type { PeerRun } from "../../scripts/bench/ledger-peers.ts";
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

describe("the bench report's line on the ledger peers", () => {
  const peer = (transfersPerSec: number): PeerRun => ({
    transfersPerSec,
    machineUsPerTransfer: 40,
    pgbench: pgbench(transfersPerSec / 500, 20_000),
  });

  it("gives each peer's transfers a second, before, after and mean, and the mean over pgbench's", () => {
    const line = peersLine({
      pgbench: { meanTps: 3_000, machineUsPerTransaction: 650 },
      peers: {
        single: { before: peer(9_000), after: peer(10_000), meanTransfersPerSec: 9_500 },
        batched: { after: peer(45_000), meanTransfersPerSec: 45_000 },
      },
    });
    expect(line).toContain("over 10,000 accounts");
    expect(line).toContain(
      "one transfer per transaction from 16 clients: before 9000, after 10000, **mean 9500 transfers/s** (3.2× pgbench)",
    );
    expect(line).toContain(
      "500 per call from one connection: before —, after 45000, **mean 45000 transfers/s** (15× pgbench)",
    );
  });

  it("runs by default; --no-peers skips them", () => {
    expect(parseBenchOptions([]).peers).toBe(true);
    expect(parseBenchOptions(["--no-peers"]).peers).toBe(false);
  });

  it("is empty when no peer ran, and gives no ratio without pgbench", () => {
    expect(peersLine({ pgbench: { meanTps: 0, machineUsPerTransaction: 0 }, peers: {} })).toBe("");
    const line = peersLine({
      pgbench: { meanTps: 0, machineUsPerTransaction: 0 },
      peers: { batched: { before: peer(40_000), meanTransfersPerSec: 40_000 } },
    });
    expect(line).toContain("**mean 40000 transfers/s**.");
    expect(line).not.toContain("pgbench)");
  });
});
