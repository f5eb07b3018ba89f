import { type AddressInfo, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiProcess, startApiProcess } from "../helpers/api-process.ts";
import { expectRecovered } from "../helpers/faults.ts";
import {
  Api,
  newClient,
  newWallet,
  type Reply,
  requestOnOwnConnection,
  waitAllSettled,
} from "../helpers/http.ts";
import { steadyLoad } from "../helpers/load.ts";
import { sampleValue, scrape } from "../helpers/metrics.ts";
import { type SpawnedWorker, startSystem, type TestSystem } from "../helpers/system.ts";
import { ExitedEarly } from "../helpers/throwaway.ts";

/**
 * API_PROCESSES=4: `node api/main.ts` forks four api processes sharing one port (node:cluster).
 * Each request below that must reach "some process" goes on a connection of its own, so that
 * the primary's round robin spreads them; which process answered is read from its request line.
 */

const FOUR = { API_PROCESSES: "4" };

let system: TestSystem;
let api: Api;
let workers: SpawnedWorker[];
const started: ApiProcess[] = [];

beforeAll(async () => {
  system = await startSystem({
    partitions: 4,
    batchCap: 20,
    workerSettings: { SWEEP_INTERVAL_MS: "500", SWEEP_GRACE_MS: "1000" },
  });
  workers = [await system.spawnWorker(), await system.spawnWorker()];
  api = await newClient(system);
});
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  await system?.stop();
});

async function fourProcesses(): Promise<ApiProcess & { pids: number[] }> {
  const p = await startApiProcess(system, FOUR);
  started.push(p);
  const ready = await p.line((l) => l.msg === "api processes listening");
  return Object.assign(p, { pids: ready.pids as number[] });
}

/** One request on a connection of its own, so that the primary's round robin may pick any process. */
const onNewConnection = (
  baseUrl: string,
  key: string | undefined,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> =>
  requestOnOwnConnection(`${baseUrl}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });

/** The pids whose request lines name `route`. */
const answeredBy = (p: ApiProcess, route: string): Set<number> =>
  new Set(p.lines.filter((l) => l.msg === "request" && l.route === route).map((l) => l.pid));

describe("API_PROCESSES=4", () => {
  let four: ApiProcess & { pids: number[] };
  beforeAll(async () => {
    four = await fourProcesses();
  });

  it("the idempotency storm: 50 identical requests spread over the processes make one operation", async () => {
    expect(four.pids).toHaveLength(4);
    const a = await newWallet(api);
    const b = await newWallet(api);
    await api.settle((await api.topUp(a, 1_000)).body.id);

    const replies = await Promise.all(
      Array.from({ length: 50 }, () =>
        onNewConnection(four.baseUrl, api.key, "POST", "/v1/transfers", {
          body: { fromWalletId: a, toWalletId: b, amount: 300 },
          headers: { "idempotency-key": "storm-over-four" },
        }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(replies.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(49);
    const ops = await system.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM operations WHERE idempotency_key = 'storm-over-four'`,
    );
    expect(ops.rows[0]?.n).toBe(1);
    // The request lines are written asynchronously: wait for all 50.
    await expect
      .poll(() => four.lines.filter((l) => l.msg === "request" && l.route === "/v1/transfers").length)
      .toBe(50);
    const pids = answeredBy(four, "/v1/transfers");
    console.log(`[api-processes] the storm was answered by ${pids.size} of 4 processes`);
    expect(pids.size).toBeGreaterThan(1);
    for (const pid of pids) expect(four.pids).toContain(pid);

    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${a}`)).body).toMatchObject({ balance: 700, version: 2 });
    expect((await api.get(`/v1/wallets/${b}`)).body).toMatchObject({ balance: 300, version: 1 });
  });

  it("/metrics is the whole instance's: counters summed over the processes, the backlog once", async () => {
    for (let i = 0; i < 20; i++)
      expect((await onNewConnection(four.baseUrl, undefined, "GET", "/healthz")).status).toBe(200);
    const samples = await scrape(`${four.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_api_processes")).toBe(4);
    // 50 transfers went through four processes; the aggregate counts each once.
    expect(
      sampleValue(samples, "billing_http_request_duration_seconds_count", {
        method: "POST",
        route: "/v1/transfers",
        status: "202",
      }),
    ).toBe(50);
    expect(sampleValue(samples, "billing_operations_accepted_total", { type: "transfer" })).toBe(1);
    expect(answeredBy(four, "/healthz").size).toBeGreaterThan(1);
    // Every process samples the same backlog (every 250 ms): aggregated as one sample (the
    // max), not four. Nothing is pending, once each process's next sample saw it.
    const backlog = async (): Promise<number> =>
      sampleValue(await scrape(`${four.baseUrl}/metrics`), "billing_backlog_operations", {
        partition: "0",
      }) ?? -1;
    await expect.poll(backlog, { timeout: 5_000, interval: 100 }).toBe(0);
  });

  it("a killed process is replaced, and the instance keeps serving", async () => {
    const victim = four.pids[0] as number;
    process.kill(victim, "SIGKILL");
    await four.line((l) => l.msg === "api process exited; restarting it" && l.childPid === victim);
    const replacement = await four.line((l) => l.msg === "api listening" && !four.pids.includes(l.pid));
    expect(replacement.pid).not.toBe(victim);
    const samples = await scrape(`${four.baseUrl}/metrics`);
    expect(sampleValue(samples, "billing_api_processes")).toBe(4);
    expect(sampleValue(samples, "billing_api_process_restarts_total")).toBe(1);
    // Money still moves through the instance, whichever process answers.
    const w = await newWallet(api);
    const topUps = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        onNewConnection(four.baseUrl, api.key, "POST", "/v1/top-ups", {
          body: { walletId: w, amount: 10 },
          headers: { "idempotency-key": `after-restart-${i}` },
        }),
      ),
    );
    expect(topUps.map((r) => r.status)).toEqual(Array(12).fill(202));
    await waitAllSettled(system);
    expect((await api.get(`/v1/wallets/${w}`)).body).toMatchObject({ balance: 120, version: 12 });
  });
});

describe("SIGTERM to the primary of API_PROCESSES=4", () => {
  it("under load, every process drains: each request in flight is answered, none lost, none applied twice", async () => {
    const four = await fourProcesses();
    const wallets: string[] = [];
    for (let i = 0; i < 8; i++) wallets.push(await newWallet(api));
    for (const w of wallets) await api.settle((await api.topUp(w, 10_000)).body.id);
    // The client's retries (a refused connection once the instance stops listening) go to the
    // other instance behind the same load balancer: the in-process api of the test system.
    const baseline = await operationCount();
    const load = steadyLoad(new Api({ ...system, baseUrl: four.baseUrl }, api.key), wallets, {
      retryOn: api,
    });
    await sleep(1_500);
    const beforeSigterm = (await operationCount()) - baseline;
    const code = await four.terminate();
    await sleep(1_000);
    const result = await load.stop();
    expect(code).toBe(0);
    const stopped = four.lines.filter((l) => l.msg === "api stopped").map((l) => l.pid);
    expect(stopped.sort()).toEqual([...four.pids].sort());
    // A request the instance had accepted but not answered would come back as a replay.
    expect(result.replays).toBe(0);
    await expectRecovered(system, result);
    console.log(
      `[api-processes] SIGTERM under load: ${beforeSigterm} accepted before it, ${result.accepted.size} in all, ` +
        `${result.replays} replays, exit ${code}`,
    );
  });

  it("answers the long polls held by every process at once, then exits 0", async () => {
    // No worker runs now: the operations stay pending, so the polls are held to their deadline.
    for (const w of workers) expect(await system.terminateWorker(w)).toBe(0);
    const four = await fourProcesses();
    const wallet = await newWallet(api);
    const ops: string[] = [];
    for (let i = 0; i < 8; i++) ops.push((await api.topUp(wallet, 5, `held-${i}`)).body.id);
    const held = ops.map((id) =>
      onNewConnection(four.baseUrl, api.key, "GET", `/v1/operations/${id}?wait=30`),
    );
    // Held: the instance's aggregate counts the eight, whichever processes hold them.
    await expect
      .poll(async () => sampleValue(await scrape(`${four.baseUrl}/metrics`), "billing_long_polls_waiting"), {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(8);
    const holders = new Set<number>();
    const code = await four.terminate();
    const answers = await Promise.all(held);
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(answers.map((r) => r.body.status)).toEqual(Array(8).fill("pending"));
    for (const l of four.lines)
      if (l.msg === "request" && l.route === "/v1/operations/:id") holders.add(l.pid);
    console.log(`[api-processes] 8 long polls held by ${holders.size} processes, all answered at SIGTERM`);
    // Exit 0: every process stopped within its bound (a held poll would otherwise have waited 30 s).
    expect(code).toBe(0);
  });
});

async function operationCount(): Promise<number> {
  const r = await system.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM operations`);
  return r.rows[0]?.n ?? 0;
}

describe("the tests' api process on a taken port", () => {
  it("fails as a port's fault (ExitedEarly), the failure the helper starts again on another port", async () => {
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      await expect(startApiProcess(system, { PORT: String(port) })).rejects.toBeInstanceOf(ExitedEarly);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
