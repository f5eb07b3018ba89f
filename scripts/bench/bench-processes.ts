import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * The processes of one scenario, started as in production: `node api/main.ts` and
 * `node worker/main.ts` (Node strips the types; the same entry points `npm run start:*` runs
 * compiled), configured only through their environment.
 */

const WARN_LINE = /"level":(40|50|60)/;

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** pino lines at warn or above. */
  warnings: () => number;
  /** The line that said it was ready (a worker's names its metrics port). */
  readyLine: string;
}

/**
 * Starts `node [flags] <script>`; output lines at warn level or above go to `logFile` (the api
 * logs a line per request at info: those are read and dropped, as a log shipper would).
 * Resolves once a line contains `readyText`, with that line.
 */
export async function startProcess(opts: {
  name: string;
  script: string;
  env: Record<string, string>;
  nodeFlags: string[];
  logFile: string;
  readyText: string;
}): Promise<BenchProcess> {
  const child = spawn(process.execPath, [...opts.nodeFlags, opts.script], {
    env: { PATH: process.env.PATH ?? "", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let warnings = 0;
  let ready = false;
  let early = "";
  let readyLine = "";
  const readyPromise = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name}: not ready after 30 s: ${early}`)), 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${opts.name} exited (${signal ?? code}) before it was ready: ${early}`));
    });
    let partial = "";
    const onChunk = (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const cut = text.lastIndexOf("\n");
      partial = cut === -1 ? text : text.slice(cut + 1);
      if (cut === -1) return;
      const complete = text.slice(0, cut);
      if (!ready) {
        early = (early + complete).slice(-4_000);
        if (complete.includes(opts.readyText)) {
          ready = true;
          readyLine = complete.split("\n").find((line) => line.includes(opts.readyText)) ?? "";
          clearTimeout(timer);
          resolve();
        }
      }
      // Most chunks are request logs at info: test the chunk before splitting it into lines.
      if (!WARN_LINE.test(complete) && !complete.includes("Error")) return;
      for (const line of complete.split("\n")) {
        if (WARN_LINE.test(line) || (!line.startsWith("{") && line.trim())) {
          warnings++;
          appendFileSync(opts.logFile, `[${opts.name}] ${line}\n`);
        }
      }
    };
    child.stdout?.on("data", onChunk);
    child.stderr?.on("data", onChunk);
  });
  await readyPromise;
  return { name: opts.name, child, warnings: () => warnings, readyLine };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopProcess(p: BenchProcess, graceMs = 20_000): Promise<void> {
  const c = p.child;
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = once(c, "exit");
  c.kill("SIGTERM");
  const timer = setTimeout(() => c.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resident memory (kB) and CPU time (ms, user + system) of a process from /proc. */
export function procStats(pid: number): { rssKb: number; cpuMs: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces): utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssKb, cpuMs: ticks * 10 }; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * {@link procStats} of a process and all its descendants, summed: an api with API_PROCESSES is
 * its primary and the children it forked (a dead child's CPU is gone with it; only the living
 * are counted, so sample at the same moments).
 */
export function processTreeStats(pid: number): { rssKb: number; cpuMs: number } | undefined {
  const own = procStats(pid);
  if (!own) return undefined;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    children = [];
  }
  return children.reduce((sum, child) => {
    const s = processTreeStats(child);
    return s ? { rssKb: sum.rssKb + s.rssKb, cpuMs: sum.cpuMs + s.cpuMs } : sum;
  }, own);
}

/** Busy and total CPU time of the whole machine, ms (from /proc/stat). */
export function machineCpu(): { busyMs: number; totalMs: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busyMs: (total - idle) * 10, totalMs: total * 10 };
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/**
 * The host's reserved huge pages (`HugePages_Total`, `HugePages_Free` of /proc/meminfo): a
 * Postgres on this host with `huge_pages = try` maps its shared buffers on them when enough are
 * free at its start, which docs/performance.md measured to matter ("Postgres settings").
 */
export function hugePages(): HugePages {
  return hugePagesOf(readFileSync("/proc/meminfo", "utf8"));
}

export interface HugePages {
  total: number;
  free: number;
}

/** {@link hugePages} from the text of /proc/meminfo (0 for a field it lacks). */
export function hugePagesOf(meminfo: string): HugePages {
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)$`, "m").exec(meminfo)?.[1] ?? 0);
  return { total: field("HugePages_Total"), free: field("HugePages_Free") };
}

export interface RssSample {
  /** Seconds since sampling started. */
  t: number;
  /** kB by process name. */
  rssKb: Record<string, number>;
}

/** Samples the RSS of `processes` once a second until stopped. */
export function sampleRss(processes: BenchProcess[]): { stop(): RssSample[] } {
  const samples: RssSample[] = [];
  const started = performance.now();
  let running = true;
  void (async () => {
    while (running) {
      const rssKb: Record<string, number> = {};
      for (const p of processes) {
        const s = p.child.pid ? processTreeStats(p.child.pid) : undefined;
        if (s) rssKb[p.name] = s.rssKb;
      }
      samples.push({ t: Math.round((performance.now() - started) / 100) / 10, rssKb });
      await sleep(1_000);
    }
  })();
  return {
    stop() {
      running = false;
      return samples;
    },
  };
}
