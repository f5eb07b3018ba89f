import type { Logger } from "pino";

/**
 * Stops the process on its first SIGTERM or SIGINT: logs `stopping`, runs `stop`, logs `stopped`
 * and exits 0; exits 1 if `stop` has not finished after `boundMs` (a stuck stop must not keep the
 * process alive). Later signals are ignored while it stops.
 */
export function stopOnSignals(
  log: Logger,
  o: { stopping: string; stopped: string; boundMs: number; stop: () => Promise<void> },
): void {
  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, o.stopping);
    setTimeout(() => {
      log.error("shutdown timed out; exiting");
      process.exit(1);
    }, o.boundMs).unref();
    await o.stop();
    log.info(o.stopped);
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
