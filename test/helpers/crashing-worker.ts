import { pino } from "pino";
import { loadConfig, workerConfigSchema } from "../../shared/config.ts";
import { startWorker } from "../../worker/start-worker.ts";

/**
 * A worker that stops inside its first batch transaction, after the batch's writes and before
 * COMMIT, prints `in-batch <ids>` and waits there to be SIGKILLed: the crash that must leave
 * nothing behind. Test-only; production's worker/main.ts passes no hooks.
 */
const config = loadConfig(workerConfigSchema, "crashing-worker");
await startWorker(config, pino({ level: "silent" }), {
  beforeCommit: async (_partition, operationIds) => {
    console.log(`in-batch ${JSON.stringify(operationIds)}`);
    await new Promise(() => {});
  },
});
console.log("worker started");
