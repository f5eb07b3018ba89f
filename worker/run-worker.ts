/** The worker process: its runners, sweeper and webhook senders until SIGTERM. Started by worker/main.ts. */
import { loadConfig, workerConfigSchema } from "../shared/config.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger } from "../shared/logger.ts";
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "worker stopping: finishing current batches");
  // Bounded: a batch takes well under a second; a stuck one must not keep the process alive.
  setTimeout(() => {
    log.error("shutdown timed out; exiting");
    process.exit(1);
  }, 20_000).unref();
  await worker.stop();
  log.info("worker stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
