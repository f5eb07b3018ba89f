import type { Worker } from "node:cluster";
import { randomUUID } from "node:crypto";
import { AggregatorRegistry, type Registry } from "prom-client";

/**
 * `GET /metrics` of an api running as several processes (`API_PROCESSES`): whichever process
 * the scrape reaches asks the primary, which collects every listening process's registry over
 * IPC and answers with their aggregate (prom-client's `AggregatorRegistry.aggregate`: counters
 * and histograms summed, each gauge by its own `aggregator`) plus its own metrics. One scrape of
 * PORT is the whole instance, as with one process; a scrape that reached a different process
 * each time would see a different process's counters each time.
 */

const COLLECT = "billing:metrics-collect";
const COLLECTED = "billing:metrics-collected";
const SCRAPE = "billing:metrics-scrape";
const SCRAPED = "billing:metrics-scraped";

/** How long the primary waits for each process's registry, and a process for the primary's answer, ms. */
const COLLECT_TIMEOUT_MS = 3_000;
const SCRAPE_TIMEOUT_MS = 5_000;

/** One registry's metrics as `getMetricsAsJSON` gives them (what crosses the IPC channel). */
type RegistryJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

type Message =
  | { type: typeof COLLECT; id: string }
  | { type: typeof COLLECTED; id: string; metrics: RegistryJson }
  | { type: typeof SCRAPE; id: string }
  | { type: typeof SCRAPED; id: string; text?: string; error?: string };

const isMessage = (m: unknown): m is Message =>
  typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";

/**
 * In an api child process: answers the primary's collection requests with `registry`, and
 * returns the function `/metrics` calls, which resolves with the whole instance's text.
 */
export function childMetrics(registry: Registry): () => Promise<string> {
  const waiting = new Map<string, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  process.on("message", (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === COLLECT) {
      void registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: COLLECTED, id: m.id, metrics } satisfies Message),
        () => process.send?.({ type: COLLECTED, id: m.id, metrics: [] } satisfies Message),
      );
    } else if (m.type === SCRAPED) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.text !== undefined) w?.resolve(m.text);
      else w?.reject(new Error(`metrics: ${m.error ?? "no answer"}`));
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error("metrics: the primary did not answer"));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send?.({ type: SCRAPE, id } satisfies Message);
    });
}

/**
 * In the primary: serves the children's scrapes. Each one collects the registries of the
 * processes that are listening (`listening()`), waits for all of them (a process that exits
 * meanwhile is left out), and answers the asking child with the aggregate of theirs and `own`.
 * A process that does not answer fails the scrape rather than leave its counters out: a sum
 * missing one process looks like a counter reset to Prometheus.
 */
export function primaryMetrics(opts: { listening: () => Worker[]; own: Registry }): {
  onMessage(from: Worker, m: unknown): void;
  /** A child exited: its collections in flight stop waiting for it. */
  onExit(worker: Worker): void;
} {
  const collections = new Map<string, { answers: Map<Worker, RegistryJson>; done: () => void }>();

  const collect = async (): Promise<RegistryJson[]> => {
    const id = randomUUID();
    const workers = opts.listening();
    const answers = new Map<Worker, RegistryJson>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        collections.delete(id);
        reject(new Error(`${workers.length - answers.size} api process(es) did not send their metrics`));
      }, COLLECT_TIMEOUT_MS);
      const done = () => {
        if (workers.some((w) => !answers.has(w) && !w.isDead())) return;
        clearTimeout(timer);
        collections.delete(id);
        resolve();
      };
      collections.set(id, { answers, done });
      for (const w of workers) w.send({ type: COLLECT, id } satisfies Message);
      done();
    });
    return [...answers.values()];
  };

  return {
    onMessage(from, m) {
      if (!isMessage(m)) return;
      if (m.type === COLLECTED) {
        const c = collections.get(m.id);
        c?.answers.set(from, m.metrics);
        c?.done();
      } else if (m.type === SCRAPE) {
        void Promise.all([collect(), opts.own.getMetricsAsJSON()])
          .then(([children, own]) => AggregatorRegistry.aggregate([...children, own]).metrics())
          .then(
            (text) => from.send({ type: SCRAPED, id: m.id, text } satisfies Message),
            (err: unknown) => from.send({ type: SCRAPED, id: m.id, error: String(err) } satisfies Message),
          )
          .catch(() => {});
      }
    },
    onExit() {
      for (const c of collections.values()) c.done();
    },
  };
}
