import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { spawnOwned } from "./spawn-owned.ts";
import { ADMIN_TOKEN, type TestSystem } from "./system.ts";
import { ExitedEarly, onFreePorts } from "./throwaway.ts";

/** One JSON log line (pino): `pid`, `msg` and whatever the line carries. */
export type LogLine = { pid: number; msg: string } & Record<string, unknown>;

/** `node api/main.ts` as it runs in production, with its own port, on a test system's database and Redis. */
export interface ApiProcess {
  baseUrl: string;
  /** The process started: the only api process, or the primary of `API_PROCESSES` children. */
  child: ChildProcess;
  /** Every JSON line printed so far, by it and by its children (they share its stdout). */
  lines: LogLine[];
  /** Resolves with the first line, printed already or to come, that `match` accepts; rejects after `timeoutMs`. */
  line(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code once it exited. */
  terminate(): Promise<number | null>;
  /** SIGKILL if it is still running (cleanup). */
  kill(): Promise<void>;
}

/**
 * Starts the api entry point with the system's settings plus `settings`, and resolves once it
 * serves: its "api listening" line, or the primary's "api processes listening" when
 * API_PROCESSES asks for several. On a free port of its own, started again on another if that
 * one was taken before the api bound it; a `PORT` in `settings` is used as given.
 */
export async function startApiProcess(
  system: TestSystem,
  settings: Record<string, string> = {},
): Promise<ApiProcess> {
  if (settings.PORT !== undefined) return startOn(system, Number(settings.PORT), settings);
  return onFreePorts(1, ([port = 0]) => startOn(system, port, settings));
}

/** {@link startApiProcess} on `port`; throws {@link ExitedEarly} if the api exited because the port was taken. */
async function startOn(
  system: TestSystem,
  port: number,
  settings: Record<string, string>,
): Promise<ApiProcess> {
  const child = spawnOwned(process.execPath, ["api/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      ...system.workerEnv,
      LOG_LEVEL: "info",
      PORT: String(port),
      ADMIN_TOKEN,
      ...settings,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    let parsed: LogLine;
    try {
      parsed = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    lines.push(parsed);
    for (const w of waiters) {
      if (w.match(parsed)) {
        waiters.delete(w);
        w.resolve(parsed);
      }
    }
  });
  const line = (match: (l: LogLine) => boolean, timeoutMs = 30_000) => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const w = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(
            `no matching api log line within ${timeoutMs} ms; last: ${JSON.stringify(lines.slice(-3))}`,
          ),
        );
      }, timeoutMs);
      waiters.add(w);
    });
  };
  const exited = once(child, "exit");
  const several = Number(settings.API_PROCESSES ?? "1") !== 1;
  const ready = line((l) => l.msg === (several ? "api processes listening" : "api listening"));
  await Promise.race([
    ready,
    exited.then(([code]) => {
      const last = JSON.stringify(lines.slice(-3));
      const taken = lines.some((l) => (l.err as { code?: string } | undefined)?.code === "EADDRINUSE");
      if (taken) throw new ExitedEarly(`api on port ${port} (taken: ${last})`);
      throw new Error(`api exited with ${code} before it listened: ${last}`);
    }),
  ]);
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    lines,
    line,
    async terminate() {
      if (running()) child.kill("SIGTERM");
      const [code] = await exited;
      return code as number | null;
    },
    async kill() {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
  };
}
