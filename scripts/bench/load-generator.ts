import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";
import type { LoadResult, LoadSecond, LoadSpec } from "./load-spec.ts";
import { Samples, summarize } from "./stats.ts";

/**
 * The bench's load generator, a process of its own: `node scripts/bench/load-generator.ts
 * <spec.json>`. It sends top-ups or transfers (one a request, or `bulkSize` a request through
 * POST /v1/operations/bulk) to the api over an undici Pool with keep-alive
 * (one parser per connection, no fetch/WHATWG layers: a few tens of µs of CPU a request), then
 * writes a {@link LoadResult} to `spec.resultFile`. Closed loop: N requests in flight. Open loop:
 * requests on a clock, latency timed from the intended send time, so a slow server cannot hide
 * its queue (no coordinated omission).
 */

const specPath = process.argv[2];
if (!specPath) throw new Error("usage: load-generator.ts <spec.json>");
const spec = JSON.parse(readFileSync(specPath, "utf8")) as LoadSpec;
const wallets = readFileSync(spec.walletsFile, "utf8").split("\n").filter(Boolean);
if (wallets.length < 2) throw new Error("need at least two wallets");

const pool = new Pool(spec.baseUrl, {
  connections: spec.mode.connections,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 120_000,
  bodyTimeout: 120_000,
});
const authorization = `Bearer ${spec.apiKey}`;
const bulkSize = spec.bulkSize;
const path = bulkSize
  ? "/v1/operations/bulk"
  : spec.operation === "transfer"
    ? "/v1/transfers"
    : "/v1/top-ups";

const pick = (): string => wallets[Math.floor(Math.random() * wallets.length)] as string;
const amount = (): number => 1 + Math.floor(Math.random() * spec.maxAmount);

/** One operation's members; JSON by template (ids are UUIDs, amounts integers: nothing to escape). */
function members(): string {
  if (spec.operation === "top_up") return `"walletId":"${pick()}","amount":${amount()}`;
  const from = spec.fixedFrom ?? pick();
  let to = spec.fixedTo ?? pick();
  while (to === from) to = pick();
  return `"fromWalletId":"${from}","toWalletId":"${to}","amount":${amount()}`;
}

/**
 * The body of one request: one operation, or a bulk of `bulkSize`, each item under a key of its
 * own. Every idempotency key is a random UUID (v4), what clients are commonly told to send: each
 * lands at a random place of the operations' idempotency index, as in production, where
 * counter-like keys would all land on its last pages (docs/performance.md, "Idempotency keys as
 * clients send them").
 */
function body(): string {
  if (!bulkSize) return `{${members()}}`;
  const items: string[] = [];
  for (let i = 0; i < bulkSize; i++) {
    items.push(`{"type":"${spec.operation}","idempotencyKey":"${randomUUID()}",${members()}}`);
  }
  return `{"operations":[${items.join(",")}]}`;
}

/** Occurrences of `needle` in `haystack`. */
function count(haystack: string, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

const latencies = new Samples();
const seconds: { accepted: number; other: number; samples: Samples }[] = [];
const statuses: Record<string, number> = {};
const samples: LoadResult["samples"] = [];
/**
 * Whether an answer of this status is still wanted as a sample: three of each, twelve in all, so
 * that a few network errors are not crowded out by the thousands of 503s before them.
 */
const wanted = (status: number | "error"): boolean =>
  samples.length < 12 && samples.filter((s) => s.status === status).length < 3;
let sent = 0;
let accepted = 0;
let replayed = 0;
let retryAfter503 = 0;
let outstanding = 0;
let unsent = 0;
let maxSendLagMs = 0;
// Every connection opened before the clock starts (GET /healthz creates nothing): the measured
// phase should not time TCP handshakes and a burst of new sockets, which a warm client does not have.
await Promise.all(
  Array.from({ length: spec.mode.connections }, () =>
    pool.request({ path: "/healthz", method: "GET" }).then((r) => r.body.dump()),
  ),
);

// CPU is counted from the first send: module loading and reading the wallets are not load.
const cpuAtStart = process.cpuUsage();
const startedAt = Date.now();
const t0 = performance.now();

/** One answer: its HTTP status and how many operations it accepted (a bulk's items answered 202). */
function record(status: number | "error", startedMs: number, operations: number): void {
  const now = performance.now();
  const latency = now - startedMs;
  latencies.push(latency);
  const second = Math.floor((now - t0) / 1000);
  while (seconds.length <= second) seconds.push({ accepted: 0, other: 0, samples: new Samples(1024) });
  const bucket = seconds[second];
  accepted += operations;
  if (bucket) {
    bucket.accepted += operations;
    if (operations === 0) bucket.other++;
    bucket.samples.push(latency);
  }
  statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
}

const headers = { authorization, "content-type": "application/json" };

/**
 * One request through `pool.dispatch` with a handler: no response stream object, the body is
 * kept only for the first few answers other than 202 (the report shows them).
 */
function dispatch(): Promise<{
  status: number;
  replayed: boolean;
  retryAfterS: number | undefined;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let replayed = false;
    let retryAfterS: number | undefined;
    const chunks: Buffer[] = [];
    pool.dispatch(
      {
        path,
        method: "POST",
        headers: bulkSize ? headers : { ...headers, "idempotency-key": randomUUID() },
        body: body(),
      },
      {
        // Its presence selects undici's handler API (without it the legacy callbacks are expected).
        onRequestStart() {},
        onResponseStart(_controller, statusCode, h) {
          status = statusCode;
          replayed = h["idempotent-replayed"] === "true";
          const retryAfter = h["retry-after"];
          if (typeof retryAfter === "string") retryAfterS = Number(retryAfter);
        },
        onResponseData(_controller, chunk) {
          // A bulk's answer is counted item by item; other bodies kept only for the report.
          if (bulkSize || (status !== 202 && wanted(status))) chunks.push(chunk);
        },
        onResponseEnd() {
          resolve({ status, replayed, retryAfterS, body: Buffer.concat(chunks).toString("utf8") });
        },
        onResponseError(_controller, err) {
          reject(err);
        },
      },
    );
  });
}

/**
 * Sends one request; `intendedMs` is when it should have left (open loop) or left (closed).
 * Resolves to the seconds a refusal's `Retry-After` asked for (429 or 503), else 0.
 */
async function send(intendedMs: number): Promise<number> {
  sent++;
  outstanding++;
  try {
    const res = await dispatch();
    let operations = 0;
    if (res.status === 202) {
      operations = 1;
      if (res.replayed) replayed++;
    } else if (bulkSize && res.status === 200) {
      operations = count(res.body, '{"status":202,');
      replayed += count(res.body, '"replayed":true');
      if (operations < bulkSize && wanted(200)) samples.push({ status: 200, body: res.body.slice(0, 500) });
    } else {
      if (res.status === 503 && res.retryAfterS !== undefined) retryAfter503++;
      if (wanted(res.status)) samples.push({ status: res.status, body: res.body.slice(0, 500) });
    }
    record(res.status, intendedMs, operations);
    const refused = res.status === 429 || res.status === 503;
    return refused && res.retryAfterS !== undefined && Number.isFinite(res.retryAfterS) ? res.retryAfterS : 0;
  } catch (err) {
    if (wanted("error")) samples.push({ status: "error", body: String(err).slice(0, 500) });
    record("error", intendedMs, 0);
    return 0;
  } finally {
    outstanding--;
  }
}

/**
 * Closed loop: each connection sends its next request when the last is answered, as a client
 * would: after a refusal it waits what `Retry-After` asked (at most 1 s, and never past the end),
 * instead of hammering a server that said it is full.
 */
async function closedLoop(connections: number): Promise<void> {
  const end = t0 + spec.durationMs;
  const loop = async () => {
    while (performance.now() < end) {
      const waitS = await send(performance.now());
      if (waitS > 0) await sleep(Math.min(waitS * 1000, 1000, Math.max(0, end - performance.now())));
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
}

async function openLoop(rate: number, maxOutstanding: number): Promise<void> {
  const intervalMs = 1000 / rate;
  const end = t0 + spec.durationMs;
  const inFlight = new Set<Promise<number>>();
  let n = 0;
  while (t0 + n * intervalMs < end) {
    const now = performance.now();
    for (let due = t0 + n * intervalMs; due <= now && due < end; due = t0 + n * intervalMs) {
      n++;
      if (outstanding >= maxOutstanding) {
        unsent++;
        continue;
      }
      maxSendLagMs = Math.max(maxSendLagMs, now - due);
      const p = send(due);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    // Until the next request falls due (timers fire at 1 ms granularity at best).
    await sleep(Math.max(1, t0 + n * intervalMs - performance.now()));
  }
  await Promise.all(inFlight);
}

if (spec.mode.type === "closed") await closedLoop(spec.mode.connections);
else await openLoop(spec.mode.rate, spec.mode.maxOutstanding);
const endedAt = Date.now();
await pool.close();

const cpu = process.cpuUsage(cpuAtStart);
const timeline: LoadSecond[] = seconds.map((s, t) => ({
  t,
  accepted: s.accepted,
  other: s.other,
  p99Ms: summarize(s.samples).p99,
}));
const result: LoadResult = {
  startedAt,
  endedAt,
  sent,
  statuses,
  accepted,
  replayed,
  retryAfter503,
  latencyMs: summarize(latencies),
  timeline,
  samples,
  cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
  unsent,
  maxSendLagMs: Math.round(maxSendLagMs * 100) / 100,
};
writeFileSync(spec.resultFile, JSON.stringify(result));
