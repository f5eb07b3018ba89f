/** State of one dependency in `/readyz`. */
export type CheckState = "ok" | "down";

export interface Readiness {
  postgres: CheckState;
  redis: CheckState;
}

/** Resolves `ok` when `probe` answers within `timeoutMs`, else `down`; never throws. */
async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
      }),
    ]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/** Probes Postgres and Redis at once, each bounded by `timeoutMs`. */
export async function checkReadiness(deps: {
  pingPostgres: () => Promise<unknown>;
  pingRedis: () => Promise<unknown>;
  timeoutMs: number;
}): Promise<Readiness> {
  const [postgres, redis] = await Promise.all([
    check(deps.pingPostgres, deps.timeoutMs),
    check(deps.pingRedis, deps.timeoutMs),
  ]);
  return { postgres, redis };
}
