/** The worker process: its runners, sweeper and webhook senders until SIGTERM. Started by worker/main.ts. */
import { loadConfig, workerConfigSchema } from "../shared/config.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger } from "../shared/logger.ts";
import { stopOnSignals } from "../shared/shutdown.ts";
import { startWorker } from "./start-worker.ts";

const config = loadConfig(workerConfigSchema, "worker");
const log = createLogger("worker", config.LOG_LEVEL);

let worker: Awaited<ReturnType<typeof startWorker>>;
try {
  worker = await startWorker(config, log);
} catch (err) {
  log.fatal({ err: errorSummary(err) }, "worker could not start");
  process.exit(1);
}

// Bounded: a batch takes well under a second; a stuck one must not keep the process alive.
stopOnSignals(log, {
  stopping: "worker stopping: finishing current batches",
  stopped: "worker stopped",
  boundMs: 20_000,
  stop: () => worker.stop(),
});
