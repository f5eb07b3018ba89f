import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import { droppedLogLines } from "../logger.ts";

/**
 * A Prometheus registry of one process (api or worker) with prom-client's process metrics
 * (`process_*`, `nodejs_*`: CPU, memory, GC, event-loop lag, handles) and the log lines it dropped
 * because stdout did not take them (shared/logger.ts). One registry per running api or worker,
 * not the global one, so that tests may run several in one process.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let counted = 0;
  new Counter({
    name: "billing_log_lines_dropped_total",
    help: "Log lines dropped because stdout did not take them (more than 16 MiB waiting): a stopped or slow log reader",
    registers: [registry],
    collect() {
      const now = droppedLogLines();
      this.inc(now - counted);
      counted = now;
    },
  });
  return registry;
}

/**
 * A bounded label value: `value` when it is one of `allowed`, else "other". Labels never carry
 * ids or free text, so the number of series stays fixed whatever the traffic.
 */
export function boundedLabel<T extends string>(value: string, allowed: ReadonlySet<T>): T | "other" {
  return allowed.has(value as T) ? (value as T) : "other";
}
