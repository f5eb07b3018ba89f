import { apiConfigSchema, loadConfig } from "../shared/config.ts";
import { errorSummary } from "../shared/log-safe.ts";
import { createLogger } from "../shared/logger.ts";
import { type RunningApi, startApi } from "./start-api.ts";

const config = loadConfig(apiConfigSchema, "api");
const log = createLogger("api", config.LOG_LEVEL);

let api: RunningApi;
try {
  api = await startApi(config, log);
} catch (err) {
  log.fatal({ err: errorSummary(err) }, "api could not start");
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "api stopping");
  // Bounded: in-flight requests get 15 s to finish (long polls are answered at once).
  setTimeout(() => {
    log.error("shutdown timed out; exiting");
    process.exit(1);
  }, 15_000).unref();
  await api.stop();
  log.info("api stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
