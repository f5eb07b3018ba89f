import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  BENCH_READINGS,
  type BenchResults,
  benchReadings,
  compare,
  comparisonMarkdown,
  parseWritePath,
  type Round,
  type RunReadings,
  WRITE_PATH_READINGS,
  writePathReadings,
} from "./compare-summary.ts";

/**
 * `npm run bench:compare -- --base=REF [options] [bench options]`: an A/B of two builds (or of two
 * sets of options) on this machine, as rounds of `npm run bench` runs (or, with `--write-path`,
 * of `scripts/bench/write-path.ts`) back to back, the order alternating each round so that a
 * machine that speeds up or slows down mid-run favours neither side. Each side runs its own
 * checkout's script; the summary gives each reading's medians and the median of the rounds'
 * ratios (docs/performance.md, "How it is measured").
 */

const ROOT = resolve(import.meta.dirname, "../..");

const HELP = `npm run bench:compare -- [options] [npm run bench options]
  --base=REF        the base side: this git commit or branch, checked out in a temporary worktree
                    (default: this checkout, for comparing options with --base-arg / --head-arg)
  --rounds=N        rounds, each running both sides back to back (default 3)
  --base-arg=ARG    an option for the base side's bench only (repeatable), e.g. --base-arg=--env=X=1
  --head-arg=ARG    an option for the head side's (this checkout's) bench only (repeatable)
  --write-path      compare scripts/bench/write-path.ts runs instead (Postgres's CPU per operation
                    of the accept and the batch alone: steadier, for changes of a few percent)
  --out=DIR         results folder (default bench-results/compare-<time>)
Every other option goes to both sides' \`npm run bench\` (e.g. --scenarios=bulk --duration=15
--warmup=3 --pgbench-seconds=5) or write-path.ts (e.g. --ops=64000 --batch=250 --group=340).
The head side is this checkout as it is, uncommitted changes included.`;

interface CompareOptions {
  base: string | undefined;
  rounds: number;
  baseArgs: string[];
  headArgs: string[];
  out: string | undefined;
  writePath: boolean;
  benchArgs: string[];
}

function fail(message: string): never {
  console.error(`bench:compare: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseCompareOptions(argv: string[]): CompareOptions {
  const o: CompareOptions = {
    base: undefined,
    rounds: 3,
    baseArgs: [],
    headArgs: [],
    out: undefined,
    writePath: false,
    benchArgs: [],
  };
  for (const arg of argv) {
    const [flag = "", ...rest] = arg.split("=");
    const value = rest.join("=");
    if (arg === "--help" || arg === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (flag === "--base") o.base = value || fail("--base needs a git ref");
    else if (flag === "--rounds") {
      o.rounds = Number(value);
      if (!Number.isInteger(o.rounds) || o.rounds < 1) fail("--rounds must be a whole number, 1 or more");
    } else if (flag === "--base-arg") o.baseArgs.push(value);
    else if (flag === "--head-arg") o.headArgs.push(value);
    else if (flag === "--out") o.out = value;
    else if (arg === "--write-path") o.writePath = true;
    else o.benchArgs.push(arg);
  }
  if (o.base === undefined && o.baseArgs.length === 0 && o.headArgs.length === 0) {
    fail("nothing to compare: give --base, or --base-arg / --head-arg");
  }
  return o;
}

/** A worktree of `ref` with this checkout's node_modules (or its own, when the lockfiles differ). */
function checkOut(ref: string): { dir: string; remove: () => void } {
  const parent = mkdtempSync(join(tmpdir(), "bench-base-"));
  const dir = join(parent, "checkout");
  execFileSync("git", ["worktree", "add", "--detach", dir, ref], { cwd: ROOT, stdio: "inherit" });
  const remove = () => {
    execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "inherit" });
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    const lock = (cwd: string) => readFileSync(join(cwd, "package-lock.json"), "utf8");
    if (lock(dir) === lock(ROOT)) symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
    else execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit" });
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, remove };
}

/** The side's run under way, stopped with this process (a signal to it alone, too). */
let running: ChildProcess | undefined;
let stoppedBy: NodeJS.Signals | undefined;

/**
 * One side's run of its own checkout's bench (its figures in `<out>/<name>/`) or write-path.ts
 * (its report in the log), its output in `<out>/<name>.log`.
 */
async function runSide(
  cwd: string,
  args: string[],
  out: string,
  name: string,
  writePath: boolean,
): Promise<RunReadings> {
  const logFile = join(out, `${name}.log`);
  const script = writePath ? "scripts/bench/write-path.ts" : "scripts/bench/bench.ts";
  const started = Date.now();
  const log = openSync(logFile, "w");
  running = spawn(process.execPath, [script, ...args, ...(writePath ? [] : [`--out=${join(out, name)}`])], {
    cwd,
    stdio: ["ignore", log, log],
  });
  const [code] = (await once(running, "exit")) as [number | null];
  running = undefined;
  closeSync(log);
  if (stoppedBy) throw new Error(`stopped by ${stoppedBy} during ${name}`);
  let readings: RunReadings;
  try {
    readings = writePath
      ? writePathReadings(parseWritePath(readFileSync(logFile, "utf8")))
      : benchReadings(JSON.parse(readFileSync(join(out, name, "results.json"), "utf8")) as BenchResults);
  } catch (err) {
    throw new Error(`${name}: no figures from ${script} (exit ${code}; ${String(err)}); see ${logFile}`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const shown = [
    "settled/s",
    "× pgbench",
    "Postgres µs/op",
    "generator µs/op",
    "accept Postgres µs/op",
    "batch Postgres µs/op",
  ];
  const summary = readings.scenarios.map(
    (s) =>
      `${s.name}: ${shown
        .filter((label) => s.values[label] !== undefined)
        .map((label) => `${label} ${s.values[label]?.toFixed(label === "× pgbench" ? 2 : 0)}`)
        .join(", ")}`,
  );
  console.log(`bench:compare: ${name} (${seconds} s) ${summary.join("; ")}`);
  return readings;
}

async function main(): Promise<void> {
  const o = parseCompareOptions(process.argv.slice(2));
  const out = resolve(
    o.out ?? join(ROOT, "bench-results", `compare-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  mkdirSync(out, { recursive: true });
  const base = o.base === undefined ? undefined : checkOut(o.base);
  const stop = (signal: NodeJS.Signals) => {
    stoppedBy = signal;
    running?.kill(signal);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const baseSide = { cwd: base?.dir ?? ROOT, args: [...o.benchArgs, ...o.baseArgs] };
  const headSide = { cwd: ROOT, args: [...o.benchArgs, ...o.headArgs] };
  console.log(
    `bench:compare: ${o.rounds} rounds into ${out}; base ${o.base ?? "this checkout"}, head this checkout`,
  );
  const rounds: Round[] = [];
  try {
    for (let i = 1; i <= o.rounds; i++) {
      const run = async (side: "base" | "head") => {
        const s = side === "base" ? baseSide : headSide;
        return runSide(s.cwd, s.args, out, `round-${i}-${side}`, o.writePath);
      };
      // Odd rounds run base first, even ones head first: a drift in the machine's speed favours
      // each side as often.
      if (i % 2 === 1) {
        const b = await run("base");
        rounds.push({ base: b, head: await run("head") });
      } else {
        const h = await run("head");
        rounds.push({ base: await run("base"), head: h });
      }
    }
  } finally {
    base?.remove();
  }
  const command = `npm run bench:compare -- ${process.argv.slice(2).join(" ")}`;
  const comparison = compare(rounds, o.writePath ? WRITE_PATH_READINGS : BENCH_READINGS);
  const markdown = `# ${command}\n\n${comparisonMarkdown(comparison)}`;
  writeFileSync(join(out, "compare.md"), markdown);
  writeFileSync(join(out, "compare.json"), `${JSON.stringify({ command, ...comparison }, null, 2)}\n`);
  console.log(`\n${markdown}\nbench:compare: wrote ${join(out, "compare.md")} and compare.json`);
  if (comparison.problems.length > 0) process.exitCode = 1;
}

await main().catch((err: unknown) => {
  console.error(`bench:compare: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
