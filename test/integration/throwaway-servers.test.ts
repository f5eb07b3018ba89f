import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spawnOwned } from "../helpers/spawn-owned.ts";
import {
  answersPing,
  ExitedEarly,
  freePort,
  onFreePorts,
  redisServerArgs,
  startRedis,
  untilAnswering,
} from "../helpers/throwaway.ts";

/**
 * The test servers' start-up: a port found free can be taken again before the server binds it,
 * and the server then exits at once. The start fails at once and is tried on other ports,
 * instead of waiting 30 s for an answer that cannot come (a CI run failed that way).
 */
describe("servers of a test's own, on free ports", () => {
  const blockers: Server[] = [];
  afterEach(async () => {
    await Promise.all(blockers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  /** Listens on a free port of 127.0.0.1, as another process that took it would (closing every connection). */
  const takenPort = async (): Promise<number> => {
    const port = await freePort();
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    blockers.push(server);
    return port;
  };

  it("a redis-server on a taken port fails as it exits, not when the wait for an answer ends", async () => {
    const port = await takenPort();
    const dir = mkdtempSync(join(tmpdir(), "billing-redis-taken-"));
    try {
      const child = spawnOwned("redis-server", redisServerArgs(port, dir), { stdio: "ignore" });
      // The wait's own end would be a plain Error ("timed out waiting for …").
      await expect(
        untilAnswering(`redis on ${port}`, child, () => answersPing(`redis://127.0.0.1:${port}`)),
      ).rejects.toBeInstanceOf(ExitedEarly);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a start that exited early is tried again on other ports; other failures are not retried", async () => {
    const tried: number[][] = [];
    const started = await onFreePorts(2, async (ports) => {
      tried.push(ports);
      if (tried.length === 1) throw new ExitedEarly("the first try");
      return ports;
    });
    expect(tried).toHaveLength(2);
    expect(started).toEqual(tried[1]);

    let calls = 0;
    await expect(
      onFreePorts(1, async () => {
        calls++;
        throw new Error("not a port's fault");
      }),
    ).rejects.toThrow("not a port's fault");
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      onFreePorts(1, async () => {
        calls++;
        throw new ExitedEarly("every try");
      }),
    ).rejects.toBeInstanceOf(ExitedEarly);
    expect(calls).toBe(3);
  });

  it("startRedis answers on its port, and again after a restart", async () => {
    const redis = await startRedis();
    try {
      expect(await answersPing(redis.url)).toBe(true);
      await redis.restart();
      expect(await answersPing(redis.url)).toBe(true);
    } finally {
      await redis.stop();
    }
  });
});
