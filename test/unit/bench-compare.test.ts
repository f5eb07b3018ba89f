import { describe, expect, it } from "vitest";
import {
  BENCH_READINGS,
  type BenchResults,
  benchReadings,
  compare,
  comparisonMarkdown,
  median,
  parseWritePath,
  type ScenarioResult,
  signTest,
  WRITE_PATH_READINGS,
  writePathReadings,
} from "../../scripts/bench/compare-summary.ts";

function scenario(name: string, settled: number, pg: number, generator: number): ScenarioResult {
  return {
    name,
    settle: { settledPerSec: settled, lagMs: { p50: 500 } },
    load: { latencyMs: { p99: 200 } },
    cpu: {
      "pg backends": { ms: pg * 10, usPerOp: pg },
      machine: { ms: pg * 20, usPerOp: 2 * pg },
      generator: { ms: generator * 10, usPerOp: generator },
      api: { ms: pg * 4, usPerOp: Math.round(pg * 0.4) },
      "worker-1": { ms: pg * 2, usPerOp: Math.round(pg * 0.2) },
      "worker-2": { ms: pg * 1, usPerOp: Math.round(pg * 0.1) },
    },
    pg: { buffersPerOp: 75, walBytesPerOp: 2_500 },
    audit: { ok: true },
    lost: 0,
  };
}

// pgbench's transaction costs the machine what its tps says at 97 % of two cores.
const run = (tps: number, ...scenarios: ScenarioResult[]) =>
  benchReadings({
    pgbench: { meanTps: tps, machineUsPerTransaction: Math.round(1_940_000 / tps) },
    peers: { batched: { meanTransfersPerSec: tps * 14 } },
    scenarios,
  } satisfies BenchResults);

describe("bench:compare's summary", () => {
  it("takes the median of the defined readings", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, undefined, 1, 3, 2])).toBe(2.5);
    expect(median([undefined])).toBeUndefined();
  });

  it("gives the two-sided sign test of a split of rounds", () => {
    expect(signTest(2, 0)).toBe(0.5);
    expect(signTest(6, 0)).toBeCloseTo(2 / 64);
    expect(signTest(1, 9)).toBeCloseTo(22 / 1024);
    expect(signTest(3, 3)).toBe(1);
    expect(signTest(0, 0)).toBe(1);
  });

  it("pairs each round's two sides, so a slow round counts once for each", () => {
    // Round 2 is a slow machine (the generator twice as dear): both sides slower, head still ahead.
    const c = compare(
      [
        {
          base: run(2_000, scenario("bulk", 8_000, 120, 8)),
          head: run(2_000, scenario("bulk", 8_800, 108, 8)),
        },
        {
          base: run(1_000, scenario("bulk", 4_000, 240, 16)),
          head: run(1_000, scenario("bulk", 4_400, 216, 16)),
        },
        {
          base: run(2_000, scenario("bulk", 8_000, 120, 8)),
          head: run(2_000, scenario("bulk", 7_600, 126, 8)),
        },
      ],
      BENCH_READINGS,
    );
    const row = (metric: string) => c.rows.find((r) => r.scenario === "bulk" && r.metric === metric);
    expect(row("settled/s")).toMatchObject({
      base: [8_000, 4_000, 8_000],
      head: [8_800, 4_400, 7_600],
      medianBase: 8_000,
      medianHead: 7_600,
      pairRatio: 1.1,
      headBetter: 2,
      pairs: 3,
    });
    expect(row("× pgbench")?.medianBase).toBe(4);
    // The batched ledger peer moved 14 transfers per TPC-B transaction in each run.
    expect(row("× batched peer")?.medianBase).toBeCloseTo(8_000 / 28_000);
    expect(row("× batched peer")).toMatchObject({ headBetter: 2, pairs: 3 });
    expect(row("× batched peer")?.pairRatio).toBeCloseTo(1.1);
    expect(row("Postgres µs/op")).toMatchObject({ pairRatio: 0.9, headBetter: 2, signP: 1 });
    expect(row("Postgres per generator µs")).toMatchObject({
      medianBase: 15,
      medianHead: 13.5,
      headBetter: 2,
    });
    // The api and the workers (both processes together), alone and over the generator.
    expect(row("api µs/op")).toMatchObject({ base: [48, 96, 48], head: [43, 86, 50] });
    expect(row("workers µs/op")).toMatchObject({ base: [36, 72, 36], head: [33, 65, 38] });
    expect(row("api per generator µs")).toMatchObject({ medianBase: 6, medianHead: 5.4, headBetter: 2 });
    expect(row("workers per generator µs")).toMatchObject({
      medianBase: 4.5,
      medianHead: 4.05,
      headBetter: 2,
    });
    // The yardsticks are no side's merit.
    expect(row("generator µs/op")?.headBetter).toBeUndefined();
    expect(row("pgbench machine µs/transaction")).toMatchObject({
      base: [970, 1_940, 970],
      medianBase: 970,
      headBetter: undefined,
    });
    expect(c.problems).toEqual([]);
  });

  it("compares only the scenarios every run measured, and flags a failed audit or a lost operation", () => {
    const broken = { ...scenario("bulk", 8_000, 120, 8), audit: { ok: false }, lost: 2 };
    const c = compare(
      [
        {
          base: run(2_000, scenario("uniform", 2_000, 300, 20), scenario("bulk", 8_000, 120, 8)),
          head: run(2_000, broken),
        },
      ],
      BENCH_READINGS,
    );
    expect(new Set(c.rows.map((r) => r.scenario))).toEqual(new Set(["bulk"]));
    expect(c.problems).toEqual([
      "round 1, head, bulk: the ledger audit failed",
      "round 1, head, bulk: 2 operation(s) lost",
    ]);
    expect(comparisonMarkdown(c)).toContain("**Not comparable:**");
  });

  it("reads a field an older bench did not write as missing, not as zero", () => {
    const old: ScenarioResult = { name: "bulk", settle: { settledPerSec: 8_000 } };
    const c = compare(
      [{ base: run(2_000, old), head: run(2_000, scenario("bulk", 8_800, 108, 8)) }],
      BENCH_READINGS,
    );
    const pg = c.rows.find((r) => r.metric === "Postgres µs/op");
    expect(pg).toMatchObject({ medianBase: undefined, medianHead: 108, pairRatio: undefined, pairs: 0 });
    // An older bench wrote no machine µs per pgbench transaction either.
    const older = benchReadings({ pgbench: { meanTps: 2_000 }, scenarios: [old] });
    expect(older.scenarios[0]?.values["pgbench machine µs/transaction"]).toBeUndefined();
    // Nor did it run the ledger peers.
    expect(older.scenarios[0]?.values["× batched peer"]).toBeUndefined();
    expect(comparisonMarkdown(c)).toMatch(
      /\| bulk \| Postgres µs\/op \| — \(—\) \| 108 \(108\) \| — \| 0 of 0 \|/,
    );
  });

  it("reads write-path.ts's figures as one scenario, and flags operations it left pending", () => {
    const wp = (accept: number, batch: number, leftPending = 0) =>
      writePathReadings({
        backendUs: { accept, batch, total: accept + batch },
        walBytes: { accept: 1_070, batch: 1_190 },
        nodeUs: { accept: 9, batch: 32, total: 41 },
        leftPending,
      });
    const c = compare(
      [
        { base: wp(34, 53), head: wp(31, 52) },
        { base: wp(36, 55), head: wp(33, 54, 3) },
      ],
      WRITE_PATH_READINGS,
    );
    expect(c.rows.find((r) => r.metric === "Postgres µs/op")).toMatchObject({
      scenario: "write path",
      base: [87, 91],
      head: [83, 87],
      headBetter: 2,
    });
    expect(c.rows.find((r) => r.metric === "WAL bytes/op")?.medianHead).toBe(2_260);
    expect(c.problems).toEqual(["round 2, head, write path: 3 operation(s) left pending"]);
  });

  it("reads write-path.ts's report", () => {
    const report = [
      "write-path: 64000 transfers, batches of 250, inserts of 340, 10000 wallets, 9.9 s, 0 left pending",
      "backend CPU µs/op: accept 34, batch 53, total 88; WAL bytes/op: accept 1069.51275, batch 1191.817625",
      "this process's CPU µs/op (node-postgres and the runner): accept 9, batch 32, total 41",
    ].join("\n");
    expect(parseWritePath(report)).toEqual({
      backendUs: { accept: 34, batch: 53, total: 88 },
      walBytes: { accept: 1069.51275, batch: 1191.817625 },
      nodeUs: { accept: 9, batch: 32, total: 41 },
      leftPending: 0,
    });
    expect(() => parseWritePath("Error: connect ECONNREFUSED")).toThrow(/printed no line/);
  });
});
