import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { createApiPrimaryMetrics } from "../shared/metrics/api-metrics.ts";
import { primaryMetrics } from "./cluster-metrics.ts";

/** A child that stayed up this long had a clean run: its next death restarts it at the first delay, ms. */
export const STABLE_AFTER_MS = 30_000;
/** First restart delay and the cap of the doubling, ms. */
const FIRST_RESTART_MS = 250;
const MAX_RESTART_MS = 30_000;
/** The primary's own bound on a shutdown: each child exits within 15 s (api/run-api.ts), ms. */
const STOP_TIMEOUT_MS = 18_000;

/**
 * How long to wait before restarting a child that died, given how many died in a row without a
 * stable run in between: 250 ms, 0.5 s, 1 s, 2 s … 30 s. A crash loop (a child that dies at start,
 * Postgres refusing connections) then costs a start every 30 s, not a busy loop of forks.
 */
export function restartDelayMs(failuresInARow: number): number {
  return Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** Math.max(0, failuresInARow - 1));
}

/**
 * The api's primary process when `API_PROCESSES` asks for more than one: forks that many
 * children (`node:cluster`, each runs the api on the shared PORT: the primary accepts the
 * connections and hands them out round-robin), restarts a child that dies (after
 * {@link restartDelayMs}), passes SIGTERM/SIGINT on to every child and exits once all have
 * drained (0 if every child stopped cleanly, 1 otherwise or after {@link STOP_TIMEOUT_MS}), and
 * answers the children's `/metrics` with the whole instance's. If a child dies before all of
 * the first ones listened, the api could not start: the primary stops the others and exits 1,
 * as one process would.
 */
export function superviseApi(processes: number, log: Logger): void {
  // The primary's own metrics only: its process metrics (an idle event loop, a small heap) would
  // skew the children's averages, and its CPU is a small share of the instance's.
  const registry = new Registry();
  const metrics = createApiPrimaryMetrics(registry);
  const listening = new Set<Worker>();
  const metricsServer = primaryMetrics({ listening: () => [...listening], own: registry });
  metrics.track({ listening: () => listening.size });
  /** Per slot: its child, when it started, and deaths in a row. */
  const slots = Array.from({ length: processes }, () => ({
    worker: undefined as Worker | undefined,
    startedAt: 0,
    failures: 0,
    restart: undefined as NodeJS.Timeout | undefined,
  }));
  let started = false;
  let stopping = false;

  const fork = (slot: number) => {
    const s = slots[slot];
    if (!s) return;
    s.restart = undefined;
    s.startedAt = Date.now();
    const worker = cluster.fork();
    s.worker = worker;
    worker.on("message", (m: unknown) => metricsServer.onMessage(worker, m));
    worker.on("listening", () => {
      listening.add(worker);
      if (!started && listening.size === processes) {
        started = true;
        log.info({ processes, pids: [...listening].map((w) => w.process.pid) }, "api processes listening");
      }
    });
    worker.on("exit", (code, signal) => {
      listening.delete(worker);
      metricsServer.onExit(worker);
      if (stopping) return;
      if (!started) {
        log.fatal(
          { pid: worker.process.pid, code, signal },
          "an api process exited while starting; stopping",
        );
        void stop(1);
        return;
      }
      s.failures = Date.now() - s.startedAt >= STABLE_AFTER_MS ? 1 : s.failures + 1;
      const delay = restartDelayMs(s.failures);
      metrics.restarted();
      log.error(
        { childPid: worker.process.pid, code, signal, restartInMs: delay, failuresInARow: s.failures },
        "api process exited; restarting it",
      );
      s.restart = setTimeout(() => fork(slot), delay);
    });
  };

  const stop = async (exitCode: number, signal?: string) => {
    if (stopping) return;
    stopping = true;
    if (signal) log.info({ signal }, "api stopping: draining every api process");
    setTimeout(() => {
      log.error("api processes still running after the shutdown bound; killing them");
      for (const s of slots) s.worker?.process.kill("SIGKILL");
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    const running = slots.flatMap((s) => {
      clearTimeout(s.restart);
      const w = s.worker;
      return w && !w.isDead() ? [w] : [];
    });
    const codes = await Promise.all(
      running.map(
        (w) =>
          new Promise<number | null>((resolve) => {
            w.once("exit", (code) => resolve(code));
            w.process.kill("SIGTERM");
          }),
      ),
    );
    const clean = codes.every((c) => c === 0);
    log.info({ processes: running.length, clean }, "api processes stopped");
    process.exit(clean ? exitCode : 1);
  };

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => void stop(0, signal));
  }
  log.info({ processes }, "api primary starting its processes");
  for (let slot = 0; slot < processes; slot++) fork(slot);
}
