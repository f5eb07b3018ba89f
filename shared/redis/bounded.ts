/**
 * `promise`, or a rejection naming `what` once `ms` have passed. For the Redis commands that
 * money-path code awaits: a connection that waits for Redis across reconnects (BullMQ's
 * `maxRetriesPerRequest: null`) can also wait for ever. On a Redis Cluster whose master died
 * and came back, a command sent meanwhile was seen never to settle: a runner awaiting it held
 * its partition for good, its job lock renewed by BullMQ all the while. The command may still
 * run later; every caller treats it as failed, which is safe (a flag or an announcement lost
 * costs a doorbell or a re-read).
 */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
