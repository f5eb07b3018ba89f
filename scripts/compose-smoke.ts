import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { EntryResource, OperationResource, Page, WalletResource } from "../shared/http/resources.ts";
import { accept, all, fail, get, request, SmokeError } from "./smoke-http.ts";

/**
 * The money smoke test of scripts/compose-check.sh: a client of the HTTP API and nothing else
 * (API_URL, default http://127.0.0.1:3000), so it sees only what the published port shows.
 * Each command keeps its state in the folder given by `--state`:
 *   setup     the operator (ADMIN_TOKEN) creates a client, which opens WALLETS wallets and funds each
 *   load      transfers (a few unaffordable on purpose) and top-ups, each under a key of its own:
 *             `--ops N` with `--concurrency C` in flight, or `--rate R` a second for `--seconds S`.
 *             A network error, a 5xx or a 429 is retried under the same key until a 202 (a retry
 *             after a lost answer must be replayed as the same operation)
 *   settle    waits until none of the client's operations is pending, then checks that every
 *             accepted operation ended exactly once: one operation per key, the expected outcome,
 *             exactly its entries, balances equal to their entries
 *   snapshot  `--out FILE` writes every wallet, entry and operation of the client; `--compare FILE`
 *             exits 1 unless they are all still the same
 */

const WALLETS = 20;
/** Each wallet's funding, minor units: more than every ordinary transfer of a run put together. */
const FUNDING = 100_000_000;
/** An ordinary transfer moves 1..MAX_AMOUNT; an unaffordable one, more than all the client's money. */
const MAX_AMOUNT = 1_000;
const UNAFFORDABLE = 1_000_000_000_000;

interface Client {
  apiKey: string;
  wallets: string[];
}
/** What one load sent: the operation the api accepted under each key. */
interface Sent {
  key: string;
  id: string;
  type: "top_up" | "transfer";
  amount: number;
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)] ?? fail("no wallets");

async function setup(dir: string): Promise<void> {
  const admin = process.env.ADMIN_TOKEN ?? fail("set ADMIN_TOKEN");
  const created = await request<{ apiKey: string }>("POST", "/v1/clients", admin, { name: "compose-check" });
  if (created.status !== 201) fail(`POST /v1/clients: ${created.status} ${created.text}`);
  const apiKey = created.body.apiKey;
  const wallets: string[] = [];
  const sent: Sent[] = [];
  const retries = new Map<string, number>();
  for (let i = 0; i < WALLETS; i++) {
    const w = await request<WalletResource>("POST", "/v1/wallets", apiKey, { metadata: { n: String(i) } });
    if (w.status !== 201) fail(`POST /v1/wallets: ${w.status} ${w.text}`);
    wallets.push(w.body.id);
    const key = `setup-${i}`;
    const { op } = await accept(
      "/v1/top-ups",
      apiKey,
      { walletId: w.body.id, amount: FUNDING },
      key,
      retries,
    );
    sent.push({ key, id: op.id, type: "top_up", amount: FUNDING });
  }
  writeFileSync(join(dir, "client.json"), JSON.stringify({ apiKey, wallets } satisfies Client));
  writeFileSync(join(dir, "sent-setup.json"), JSON.stringify(sent));
  console.log(`setup: a client with ${WALLETS} wallets, each topped up with ${FUNDING} minor units`);
}

async function load(
  dir: string,
  tag: string,
  plan: { ops?: number; rate?: number; seconds?: number; concurrency: number },
) {
  const { apiKey, wallets } = JSON.parse(readFileSync(join(dir, "client.json"), "utf8")) as Client;
  const sent: Sent[] = [];
  const retries = new Map<string, number>();
  let replays = 0;
  const one = async (i: number) => {
    const key = `${tag}-${i}-${randomUUID()}`;
    const roll = Math.random();
    const amount = roll < 0.05 ? UNAFFORDABLE : 1 + Math.floor(Math.random() * MAX_AMOUNT);
    const from = pick(wallets);
    let to = pick(wallets);
    while (to === from) to = pick(wallets);
    const [path, body, type] =
      roll > 0.95
        ? (["/v1/top-ups", { walletId: to, amount }, "top_up"] as const)
        : (["/v1/transfers", { fromWalletId: from, toWalletId: to, amount }, "transfer"] as const);
    const r = await accept(path, apiKey, body, key, retries);
    if (r.replayed) replays++;
    sent.push({ key, id: r.op.id, type, amount });
  };
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (
    let i = 0;
    plan.ops !== undefined ? i < plan.ops : performance.now() - started < (plan.seconds ?? 0) * 1000;
    i++
  ) {
    if (plan.rate) await sleep(Math.max(0, started + (i * 1000) / plan.rate - performance.now()));
    while (inFlight.size >= plan.concurrency) await Promise.race(inFlight);
    const p: Promise<void> = one(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  writeFileSync(join(dir, `sent-${tag}.json`), JSON.stringify(sent));
  const retried = [...retries].map(([why, n]) => `${why} ×${n}`).join(", ") || "none";
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `load ${tag}: ${sent.length} accepted in ${seconds} s; retried: ${retried}; answered as replays: ${replays}`,
  );
}

/** Every operation the loads had accepted, by id (each key once: `accept` returned one id per key). */
function allSent(dir: string): Map<string, Sent> {
  const byId = new Map<string, Sent>();
  for (const f of readdirSync(dir).filter((n) => /^sent-.*\.json$/.test(n))) {
    for (const s of JSON.parse(readFileSync(join(dir, f), "utf8")) as Sent[]) {
      const other = byId.get(s.id);
      if (other) fail(`keys ${other.key} and ${s.key} were both answered with operation ${s.id}`);
      byId.set(s.id, s);
    }
  }
  return byId;
}

async function settle(dir: string, timeoutSeconds: number): Promise<void> {
  const { apiKey, wallets } = JSON.parse(readFileSync(join(dir, "client.json"), "utf8")) as Client;
  const started = performance.now();
  for (;;) {
    const pending = await get<Page<OperationResource>>("/v1/operations?status=pending&limit=100", apiKey);
    if (pending.data.length === 0) break;
    if (performance.now() - started > timeoutSeconds * 1000) {
      fail(
        `still pending after ${timeoutSeconds} s: ${pending.data.length}${pending.nextCursor ? "+" : ""} operations, e.g. ${pending.data[0]?.id}`,
      );
    }
    await sleep(500);
  }
  const waited = ((performance.now() - started) / 1000).toFixed(1);

  const sent = allSent(dir);
  const ops = await all<OperationResource>("/v1/operations", apiKey);
  const listed = new Set(ops.map((o) => o.id));
  if (listed.size !== ops.length) fail("an operation is listed twice");
  const missing = [...sent.keys()].filter((id) => !listed.has(id));
  if (missing.length) fail(`${missing.length} accepted operations are not listed, e.g. ${missing[0]}`);
  if (ops.length !== sent.size)
    fail(`${ops.length} operations for ${sent.size} keys: one key, more than one operation`);

  // Every ordinary transfer of the stage together moves less than one wallet's funding, so each
  // must succeed in any order of application; an unaffordable one must fail.
  const spent = [...sent.values()].filter((s) => s.type === "transfer" && s.amount <= MAX_AMOUNT);
  if (spent.length * MAX_AMOUNT >= FUNDING) fail("too many transfers for the outcome to be known in advance");
  const expected = new Map(wallets.map((w) => [w, new Map<string, number>()]));
  let funded = 0;
  const outcomes = new Map<string, number>();
  for (const op of ops) {
    const s = sent.get(op.id) ?? fail(`operation ${op.id} was not sent by this test`);
    const want = s.amount === UNAFFORDABLE ? "failed insufficient_funds" : "succeeded";
    const got = op.failure ? `${op.status} ${op.failure.code}` : op.status;
    if (got !== want || op.amount !== s.amount || op.type !== s.type) {
      fail(
        `operation ${op.id} (${s.key}): ${op.type} ${op.amount} ${got}, expected ${s.type} ${s.amount} ${want}`,
      );
    }
    outcomes.set(got, (outcomes.get(got) ?? 0) + 1);
    if (op.status !== "succeeded") continue;
    if (op.type === "top_up") funded += op.amount;
    if (op.fromWalletId) expected.get(op.fromWalletId)?.set(op.id, -op.amount);
    if (op.toWalletId) expected.get(op.toWalletId)?.set(op.id, op.amount);
  }

  let total = 0;
  let entryCount = 0;
  for (const id of wallets) {
    const wallet = await get<WalletResource>(`/v1/wallets/${id}`, apiKey);
    const entries = (await all<EntryResource>(`/v1/wallets/${id}/entries`, apiKey)).reverse();
    const want = expected.get(id) ?? new Map<string, number>();
    let balance = 0;
    const seen = new Set<string>();
    for (const e of entries) {
      if (seen.has(e.operationId)) fail(`wallet ${id}: operation ${e.operationId} posted twice`);
      seen.add(e.operationId);
      if (want.get(e.operationId) !== e.amount)
        fail(`wallet ${id}: entry ${e.id} of ${e.operationId} is not expected`);
      balance += e.amount;
      if (e.balanceAfter !== balance)
        fail(`wallet ${id}: entry ${e.id} balanceAfter ${e.balanceAfter}, expected ${balance}`);
    }
    if (seen.size !== want.size)
      fail(`wallet ${id}: ${seen.size} entries, ${want.size} succeeded operations`);
    if (wallet.balance !== balance || wallet.version !== entries.length) {
      fail(
        `wallet ${id}: balance ${wallet.balance} version ${wallet.version}, entries say ${balance} and ${entries.length}`,
      );
    }
    total += balance;
    entryCount += entries.length;
  }
  if (total !== funded) fail(`the wallets hold ${total}, the succeeded top-ups brought ${funded}`);
  const summary = [...outcomes].map(([k, n]) => `${n} ${k}`).join(", ");
  console.log(
    `settle: nothing pending after ${waited} s; ${ops.length} operations for ${sent.size} keys, each as expected (${summary}); ` +
      `${WALLETS} wallets: ${entryCount} entries, exactly those of the succeeded operations; balances = entries; total ${total} = the top-ups`,
  );
}

/** The client's whole ledger as the API shows it. */
async function ledger(dir: string): Promise<string> {
  const { apiKey, wallets } = JSON.parse(readFileSync(join(dir, "client.json"), "utf8")) as Client;
  const out = [];
  for (const id of wallets) {
    const wallet = await get<WalletResource>(`/v1/wallets/${id}`, apiKey);
    out.push({ wallet, entries: await all<EntryResource>(`/v1/wallets/${id}/entries`, apiKey) });
  }
  return JSON.stringify({ wallets: out, operations: await all<OperationResource>("/v1/operations", apiKey) });
}

async function snapshot(dir: string, out?: string, compare?: string): Promise<void> {
  const now = await ledger(dir);
  const { wallets, operations } = JSON.parse(now) as {
    wallets: { entries: unknown[] }[];
    operations: unknown[];
  };
  const counts = `${wallets.length} wallets, ${wallets.reduce((n, w) => n + w.entries.length, 0)} entries, ${operations.length} operations`;
  if (out) {
    writeFileSync(out, now);
    console.log(`snapshot: ${counts}`);
  } else if (compare) {
    if (readFileSync(compare, "utf8") !== now) fail(`the ledger changed (now ${counts}); compare ${compare}`);
    console.log(`snapshot: unchanged (${counts}: every balance, version, entry and status the same)`);
  } else fail("snapshot needs --out or --compare");
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    state: { type: "string" },
    tag: { type: "string", default: "load" },
    ops: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    concurrency: { type: "string", default: "32" },
    timeout: { type: "string", default: "120" },
    out: { type: "string" },
    compare: { type: "string" },
  },
});
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
try {
  const dir = values.state ?? fail("--state <folder> is required");
  const command = positionals[0];
  if (command === "setup") await setup(dir);
  else if (command === "load") {
    await load(dir, values.tag, {
      ...(values.ops
        ? { ops: Number(values.ops) }
        : { rate: num(values.rate) ?? 100, seconds: num(values.seconds) ?? 10 }),
      concurrency: Number(values.concurrency),
    });
  } else if (command === "settle") await settle(dir, Number(values.timeout));
  else if (command === "snapshot") await snapshot(dir, values.out, values.compare);
  else fail("usage: compose-smoke.ts setup|load|settle|snapshot --state <folder> [options]");
} catch (err) {
  console.error(`compose-smoke: ${err instanceof SmokeError ? err.message : String(err)}`);
  process.exitCode = 1;
}
