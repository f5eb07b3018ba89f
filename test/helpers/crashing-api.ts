import { pino } from "pino";
import { startApi } from "../../api/start-api.ts";
import { apiConfigSchema, loadConfig } from "../../shared/config.ts";

/**
 * An api process that dies (SIGKILL) right after an operation's insert commits, before it rings
 * the doorbell: the crash the sweeper exists for. Test-only; production's api/main.ts passes no seam.
 */
const config = loadConfig(apiConfigSchema, "crashing-api");
const api = await startApi(config, pino({ level: "silent" }), {
  afterInsert: async () => {
    process.kill(process.pid, "SIGKILL");
    await new Promise(() => {});
  },
});
console.log(`listening on ${api.port}`);
