import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync } from "node:fs";

const SETPRIV = "/usr/bin/setpriv";

/**
 * `spawn`, but the child is killed (SIGKILL) when the test process that started it dies, however
 * it dies: a vitest killed from outside used to leave its api, workers and redis-servers running.
 * Linux's parent-death signal, set by util-linux's `setpriv`, which then execs the command, so
 * the child keeps its pid. Where there is no setpriv, a plain spawn.
 */
export function spawnOwned(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return existsSync(SETPRIV)
    ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", command, ...args], options)
    : spawn(command, args, options);
}
