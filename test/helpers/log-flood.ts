/**
 * A process that logs `lines` request lines to stdout through the product's logger
 * (shared/logger.ts), `perTurn` of them in each turn of its event loop, with at most
 * `maxBufferBytes` waiting. It then reports on stderr, as one JSON line, what it logged and what
 * its metrics say it dropped, and exits (pino writes what is left before the process ends).
 * `node test/helpers/log-flood.ts '{"lines":…,"perTurn":…,"maxBufferBytes":…}'`
 */
import { createLogger, stdoutDestination } from "../../shared/logger.ts";
import { createMetricsRegistry } from "../../shared/metrics/registry.ts";

const { lines, perTurn, maxBufferBytes } = JSON.parse(process.argv[2] ?? "{}") as {
  lines: number;
  perTurn: number;
  maxBufferBytes: number;
};
const log = createLogger("flood", "info", stdoutDestination(maxBufferBytes));
const registry = createMetricsRegistry();

let logged = 0;
await new Promise<void>((resolve) => {
  const turn = () => {
    for (let i = 0; i < perTurn && logged < lines; i++, logged++) {
      log.info({ n: logged, route: "/v1/transfers", status: 202, durationMs: 12.5 }, "request");
    }
    if (logged < lines) setImmediate(turn);
    else resolve();
  };
  setImmediate(turn);
});
const metric = await registry.getSingleMetric("billing_log_lines_dropped_total")?.get();
process.stderr.write(`${JSON.stringify({ logged, dropped: metric?.values[0]?.value })}\n`);
