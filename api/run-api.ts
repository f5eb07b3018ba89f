/** The api process: one server, or the primary of several (API_PROCESSES). Started by api/main.ts. */
import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { apiConfigSchema, loadConfig } from "../shared/config.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger, sharedStdout } from "../shared/logger.ts";
import { stopOnSignals } from "../shared/shutdown.ts";
import { superviseApi } from "./api-supervisor.ts";
import { type RunningApi, startApi } from "./start-api.ts";

const config = loadConfig(apiConfigSchema, "api");
const processes = config.API_PROCESSES === 0 ? availableParallelism() : config.API_PROCESSES;

if (processes > 1 && cluster.isPrimary) {
  // API_PROCESSES: this process only forks, restarts and stops the api processes (api-supervisor.ts).
  superviseApi(processes, createLogger("api", config.LOG_LEVEL));
} else {
  await serve(cluster.isWorker);
}

/** One api process: alone, or one of the primary's children (`inCluster`). */
async function serve(inCluster: boolean): Promise<void> {
  // Children share the primary's stdout: whole lines per write, never cut into by another's.
  const log = createLogger("api", config.LOG_LEVEL, inCluster ? sharedStdout() : undefined);
  let api: RunningApi;
  try {
    api = await startApi(config, log, {}, { inCluster });
  } catch (err) {
    log.fatal({ err: errorSummary(err) }, "api could not start");
    process.exit(1);
  }

  // Bounded: in-flight requests get 15 s to finish (long polls are answered at once).
  stopOnSignals(log, {
    stopping: "api stopping",
    stopped: "api stopped",
    boundMs: 15_000,
    stop: () => api.stop(),
  });
}
