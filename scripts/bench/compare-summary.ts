/**
 * The summary of `npm run bench:compare` (scripts/bench/compare.ts): each scenario's readings of
 * the two sides, round by round, as medians and as the median of the rounds' ratios. Pure: it
 * reads what `npm run bench` wrote in results.json, or what `write-path.ts` printed, and nothing else.
 */

import type { BenchRun } from "./bench-report.ts";
import type { ScenarioResult as BenchScenario } from "./run-scenario.ts";

/** One run's readings, whichever tool took them: per scenario, a value per reading's label. */
export interface RunReadings {
  scenarios: { name: string; values: Record<string, number | undefined> }[];
  /** What makes the run's figures not count (a failed audit, a lost operation). */
  problems: string[];
}

export interface Metric {
  label: string;
  /** Which way is better; "neither" for the yardstick, whose work is the same on both sides. */
  better: "higher" | "lower" | "neither";
}

/**
 * results.json as `npm run bench` writes it (bench-report.ts, run-scenario.ts), every field
 * optional: an older commit's bench may lack one, and reads it as missing. Derived from the
 * bench's own types, so that a field renamed there fails the typecheck here.
 */
type Partially<T> = { [K in keyof T]?: T[K] extends object ? Partially<T[K]> : T[K] };
export type ScenarioResult = Partially<BenchScenario> & { name: string };
export interface BenchResults {
  pgbench: Partially<Pick<BenchRun["pgbench"], "meanTps" | "machineUsPerTransaction">>;
  /** Absent from a bench older than the ledger peers, or run with --no-peers. */
  peers?: Partially<BenchRun["peers"]>;
  scenarios: ScenarioResult[];
}

const cpu = (s: ScenarioResult, name: string) => s.cpu?.[name]?.usPerOp;
/** The workers' CPU together ("worker-1", "worker-2", …), in `unit`. */
function workers(s: ScenarioResult, unit: "ms" | "usPerOp"): number | undefined {
  const each = Object.entries(s.cpu ?? {}).filter(([name]) => name.startsWith("worker-"));
  return each.length === 0 ? undefined : each.reduce((sum, [, c]) => sum + (c?.[unit] ?? 0), 0);
}

/**
 * The bench's readings compared. The load generator does the same work per operation on both
 * sides, so its CPU per operation is the machine's speed at that moment: Postgres's CPU divided by
 * it is steadier between rounds than either alone when the machine changes speed mid-run. What a
 * pgbench transaction cost the machine is the other yardstick (the same for every scenario of a
 * run): the ratios to pgbench move with it (docs/performance.md, "What a pgbench transaction
 * costs"). The ratio to the batched ledger peer (ledger-peers.ts) is read beside it.
 */
export const BENCH_READINGS: (Metric & { read(s: ScenarioResult, run: BenchResults): number | undefined })[] =
  [
    { label: "settled/s", better: "higher", read: (s) => s.settle?.settledPerSec },
    {
      label: "× pgbench",
      better: "higher",
      read: (s, run) => ratio(s.settle?.settledPerSec, run.pgbench.meanTps),
    },
    {
      label: "× batched peer",
      better: "higher",
      read: (s, run) => ratio(s.settle?.settledPerSec, run.peers?.batched?.meanTransfersPerSec),
    },
    { label: "Postgres µs/op", better: "lower", read: (s) => cpu(s, "pg backends") },
    { label: "api µs/op", better: "lower", read: (s) => cpu(s, "api") },
    { label: "workers µs/op", better: "lower", read: (s) => workers(s, "usPerOp") },
    { label: "machine µs/op", better: "lower", read: (s) => cpu(s, "machine") },
    { label: "generator µs/op", better: "neither", read: (s) => cpu(s, "generator") },
    {
      label: "pgbench machine µs/transaction",
      better: "neither",
      // 0 when pgbench did not run; absent from an older bench's results.
      read: (_s, run) => run.pgbench.machineUsPerTransaction || undefined,
    },
    {
      label: "Postgres per generator µs",
      better: "lower",
      // From the milliseconds (the same operations divide both): µs per operation are rounded.
      read: (s) => ratio(s.cpu?.["pg backends"]?.ms, s.cpu?.generator?.ms),
    },
    {
      label: "api per generator µs",
      better: "lower",
      read: (s) => ratio(s.cpu?.api?.ms, s.cpu?.generator?.ms),
    },
    {
      label: "workers per generator µs",
      better: "lower",
      read: (s) => ratio(workers(s, "ms"), s.cpu?.generator?.ms),
    },
    { label: "buffers/op", better: "lower", read: (s) => s.pg?.buffersPerOp },
    { label: "WAL bytes/op", better: "lower", read: (s) => s.pg?.walBytesPerOp },
    { label: "settle lag p50 ms", better: "lower", read: (s) => s.settle?.lagMs?.p50 },
    { label: "accept p99 ms", better: "lower", read: (s) => s.load?.latencyMs?.p99 },
  ];

/** The readings of a `npm run bench` run's results.json. */
export function benchReadings(run: BenchResults): RunReadings {
  const problems: string[] = [];
  for (const s of run.scenarios) {
    if (s.audit?.ok === false) problems.push(`${s.name}: the ledger audit failed`);
    if ((s.lost ?? 0) > 0) problems.push(`${s.name}: ${s.lost} operation(s) lost`);
  }
  return {
    scenarios: run.scenarios.map((s) => ({
      name: s.name,
      values: Object.fromEntries(BENCH_READINGS.map((m) => [m.label, m.read(s, run)])),
    })),
    problems,
  };
}

/** What `node scripts/bench/write-path.ts` prints: µs and bytes per operation. */
export interface WritePathResults {
  backendUs: { accept: number; batch: number; total: number };
  walBytes: { accept: number; batch: number };
  nodeUs: { accept: number; batch: number; total: number };
  leftPending: number;
}

/** Reads write-path.ts's report (its first three lines); throws if a figure is missing. */
export function parseWritePath(output: string): WritePathResults {
  const match = (re: RegExp): number[] => {
    const m = re.exec(output);
    if (!m) throw new Error(`write-path.ts printed no line matching ${re}`);
    return m.slice(1).map(Number);
  };
  const [leftPending = 0] = match(/, (\d+) left pending/);
  const [ba = 0, bb = 0, bt = 0, wa = 0, wb = 0] = match(
    /backend CPU µs\/op: accept (\d+), batch (\d+), total (\d+); WAL bytes\/op: accept ([\d.]+), batch ([\d.]+)/,
  );
  const [na = 0, nb = 0, nt = 0] = match(
    /this process's CPU µs\/op[^:]*: accept (\d+), batch (\d+), total (\d+)/,
  );
  return {
    backendUs: { accept: ba, batch: bb, total: bt },
    walBytes: { accept: wa, batch: wb },
    nodeUs: { accept: na, batch: nb, total: nt },
    leftPending,
  };
}

/** The write path's readings: Postgres's CPU and WAL per operation, then the script's own CPU. */
export const WRITE_PATH_READINGS: (Metric & { read(run: WritePathResults): number })[] = [
  { label: "Postgres µs/op", better: "lower", read: (r) => r.backendUs.total },
  { label: "accept Postgres µs/op", better: "lower", read: (r) => r.backendUs.accept },
  { label: "batch Postgres µs/op", better: "lower", read: (r) => r.backendUs.batch },
  { label: "WAL bytes/op", better: "lower", read: (r) => r.walBytes.accept + r.walBytes.batch },
  { label: "node µs/op", better: "lower", read: (r) => r.nodeUs.total },
];

/** The readings of a `write-path.ts` run, as one scenario. */
export function writePathReadings(run: WritePathResults): RunReadings {
  return {
    scenarios: [
      {
        name: "write path",
        values: Object.fromEntries(WRITE_PATH_READINGS.map((m) => [m.label, m.read(run)])),
      },
    ],
    problems: run.leftPending > 0 ? [`write path: ${run.leftPending} operation(s) left pending`] : [],
  };
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** The median of the defined values; undefined when there is none. */
export function median(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

const better = (m: Metric, x: number, y: number) => (m.better === "higher" ? x > y : x < y);

/** The two-sided sign test: the chance that two equal sides split at least as unevenly as `a` to `b`. */
export function signTest(a: number, b: number): number {
  const n = a + b;
  if (n === 0) return 1;
  let tail = 0;
  let choose = 1; // C(n, 0)
  for (let j = 0; j <= Math.min(a, b); j++) {
    tail += choose;
    choose = (choose * (n - j)) / (j + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}

/** One round: the two sides' readings, measured back to back. */
export interface Round {
  base: RunReadings;
  head: RunReadings;
}

export interface MetricRow {
  scenario: string;
  metric: string;
  base: (number | undefined)[];
  head: (number | undefined)[];
  medianBase: number | undefined;
  medianHead: number | undefined;
  /** The median over rounds of head / base, each round's pair measured back to back. */
  pairRatio: number | undefined;
  /** Rounds in which head read better than base (undefined for the yardstick). */
  headBetter: number | undefined;
  pairs: number;
  /**
   * The two-sided sign test of `headBetter` of `pairs`: how often a split at least this uneven
   * comes of two equal builds (ties counted as neither side's). 1 for the yardstick.
   */
  signP: number;
}

export interface Comparison {
  rows: MetricRow[];
  /** Runs whose figures do not count: a failed audit, a lost or stranded operation. */
  problems: string[];
}

/** Compares, reading by reading, the scenarios that every run of both sides measured. */
export function compare(rounds: Round[], metrics: Metric[]): Comparison {
  const problems = rounds.flatMap((r, i) =>
    (["base", "head"] as const).flatMap((side) =>
      r[side].problems.map((p) => `round ${i + 1}, ${side}, ${p}`),
    ),
  );
  const scenario = (run: RunReadings, name: string) => run.scenarios.find((s) => s.name === name);
  const names = (rounds[0]?.base.scenarios ?? [])
    .map((s) => s.name)
    .filter((name) => rounds.every((r) => scenario(r.base, name) && scenario(r.head, name)));
  const rows: MetricRow[] = [];
  for (const name of names) {
    for (const m of metrics) {
      const base = rounds.map((r) => scenario(r.base, name)?.values[m.label]);
      const head = rounds.map((r) => scenario(r.head, name)?.values[m.label]);
      const both = base.flatMap((b, i) => {
        const h = head[i];
        return b === undefined || h === undefined ? [] : [{ b, h }];
      });
      const headWins = both.filter(({ b, h }) => better(m, h, b)).length;
      const baseWins = both.filter(({ b, h }) => better(m, b, h)).length;
      const yardstick = m.better === "neither";
      rows.push({
        scenario: name,
        metric: m.label,
        base,
        head,
        medianBase: median(base),
        medianHead: median(head),
        pairRatio: median(both.map(({ b, h }) => ratio(h, b))),
        headBetter: yardstick ? undefined : headWins,
        pairs: both.length,
        signP: yardstick ? 1 : signTest(headWins, baseWins),
      });
    }
  }
  return { rows, problems };
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "—";
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The comparison as a Markdown table, one row per scenario and reading. */
export function comparisonMarkdown(c: Comparison): string {
  const lines = [
    "| scenario | reading | base: median (rounds) | head: median (rounds) | head / base, median of rounds | rounds head better | sign test p |",
    "|---|---|---|---|---:|---:|---:|",
    ...c.rows.map(
      (r) =>
        `| ${r.scenario} | ${r.metric} | ${fmt(r.medianBase)} (${r.base.map(fmt).join(", ")}) | ` +
        `${fmt(r.medianHead)} (${r.head.map(fmt).join(", ")}) | ${r.pairRatio === undefined ? "—" : r.pairRatio.toFixed(3)} | ` +
        `${r.headBetter === undefined ? "—" : `${r.headBetter} of ${r.pairs}`} | ${r.headBetter === undefined ? "—" : r.signP.toFixed(2)} |`,
    ),
  ];
  if (c.problems.length > 0) lines.push("", "**Not comparable:**", "", ...c.problems.map((p) => `- ${p}`));
  return `${lines.join("\n")}\n`;
}
