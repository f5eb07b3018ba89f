import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { EntryResource, OperationResource, Page, WalletResource } from "../shared/http/resources.ts";
import type { WebhookDeliveryResource } from "../shared/http/webhook-resources.ts";
import { money, table } from "./demo-format.ts";
import { type DemoReceiver, startDemoReceiver } from "./demo-receiver.ts";

/**
 * `npm run demo` (or `node scripts/demo.ts`): walks a running system through one story and prints
 * what happened. The operator creates a client; the client opens two wallets, tops one up and
 * transfers from it at once, repeats the transfer under the same Idempotency-Key, waits for the
 * outcome with `?wait=10`, tries a transfer it cannot afford, and reads balances and entries. A
 * local webhook receiver hears about each outcome and verifies every delivery's signature.
 *
 * A client of the HTTP API like any other, not part of the system: it reads its settings from
 * the environment. API_URL (default http://localhost:3000), ADMIN_TOKEN (required: the api's
 * operator token; `docker compose up` uses `dev-admin-token-change-me` unless .env says
 * otherwise), DEMO_WEBHOOK_HOST (default 127.0.0.1: the address at which the workers reach this
 * machine's receiver; `host.docker.internal` for docker compose). The api refuses a receiver on a
 * private address unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (`npm run up` sets it); the demo
 * then goes on without webhooks and says why, unless DEMO_REQUIRE_WEBHOOKS=true (CI's compose
 * stage), which makes that a failure.
 */

const apiUrl = (process.env.API_URL || "http://localhost:3000").replace(/\/$/, "");
const webhookHost = process.env.DEMO_WEBHOOK_HOST || "127.0.0.1";
const requireWebhooks = process.env.DEMO_REQUIRE_WEBHOOKS === "true";
const adminToken = process.env.ADMIN_TOKEN;
if (!adminToken) {
  console.error(
    "demo: set ADMIN_TOKEN to the api's operator token, e.g.\n" +
      "  ADMIN_TOKEN=dev-admin-token-change-me npm run demo    (docker compose up, no .env)",
  );
  process.exit(2);
}

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

class DemoError extends Error {}
let openReceiver: DemoReceiver | undefined;

/** One JSON request; any status other than `expect` stops the demo with the problem details. */
async function call<T>(
  method: "GET" | "POST",
  path: string,
  opts: { key: string; body?: unknown; idempotencyKey?: string; expect: number | number[] },
): Promise<Reply<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(`${apiUrl}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      // ?wait=10 holds the request up to 10 s.
      signal: AbortSignal.timeout(20_000),
    });
  } catch (err) {
    throw new DemoError(
      `cannot reach the api at ${apiUrl} (${err instanceof Error ? err.message : String(err)}).\n` +
        "Start the system first (docker compose up, or npm run up) or set API_URL.",
    );
  }
  const text = await res.text();
  if (![opts.expect].flat().includes(res.status)) {
    const hint = res.status === 401 && opts.key === adminToken ? " (is ADMIN_TOKEN the api's?)" : "";
    throw new DemoError(`${method} ${path} answered ${res.status}${hint}: ${text}`);
  }
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as T };
}

// ---- presentation ----
let steps = 0;
const step = (what: string, outcome: string) => console.log(`${++steps}. ${what}\n   → ${outcome}`);
/** The random tail of a UUIDv7 (its head is a timestamp, the same for everything made in one second). */
const short = (id: string) => `…${id.slice(-8)}`;
const status = (op: OperationResource) => (op.failure ? `${op.status} (${op.failure.code})` : op.status);

// ---- the story ----

async function main(): Promise<number> {
  console.log(`Wallet billing demo against ${apiUrl}\n`);
  const admin = adminToken ?? "";

  const client = await call<{ id: string; name: string; apiKey: string }>("POST", "/v1/clients", {
    key: admin,
    body: { name: `Demo client ${new Date().toISOString()}` },
    expect: 201,
  });
  const key = client.body.apiKey;
  step(
    "Operator creates a client (POST /v1/clients)",
    `client ${short(client.body.id)}, key ${key.slice(0, 7)}… (shown once)`,
  );

  const open = (name: string) =>
    call<WalletResource>("POST", "/v1/wallets", {
      key,
      body: { currency: "USD", metadata: { name } },
      expect: 201,
    });
  const alice = (await open("alice")).body;
  const bob = (await open("bob")).body;
  step("Client opens two USD wallets (POST /v1/wallets)", `alice ${short(alice.id)}, bob ${short(bob.id)}`);

  const receiver = await startDemoReceiver();
  // Closed whatever happens next: a listening server would keep a failed demo from exiting.
  openReceiver = receiver;
  const endpoint = await registerReceiver(key, receiver);

  const topUp = await call<OperationResource>("POST", "/v1/top-ups", {
    key,
    body: { walletId: alice.id, amount: 10_000 },
    idempotencyKey: randomUUID(),
    expect: 202,
  });
  step(
    `Top up alice with ${money(10_000, "USD")} (POST /v1/top-ups)`,
    `202 ${topUp.body.status}, operation ${short(topUp.body.id)}`,
  );

  // Sent without waiting for the top-up: operations debiting one wallet are applied in
  // acceptance order, so the funds are there when the transfer is applied.
  const transferKey = randomUUID();
  const transferBody = {
    fromWalletId: alice.id,
    toWalletId: bob.id,
    amount: 2_550,
    metadata: { note: "lunch" },
  };
  const transfer = await call<OperationResource>("POST", "/v1/transfers", {
    key,
    body: transferBody,
    idempotencyKey: transferKey,
    expect: 202,
  });
  step(
    `Transfer ${money(2_550, "USD")} alice → bob at once (POST /v1/transfers)`,
    `202 ${transfer.body.status}, operation ${short(transfer.body.id)}`,
  );

  const replay = await call<OperationResource>("POST", "/v1/transfers", {
    key,
    body: transferBody,
    idempotencyKey: transferKey,
    expect: 202,
  });
  const same = replay.body.id === transfer.body.id;
  step(
    "The same transfer again, same Idempotency-Key",
    `202, Idempotent-Replayed: ${replay.headers.get("idempotent-replayed")}, ${same ? "same operation" : "A DIFFERENT OPERATION"}`,
  );

  const started = performance.now();
  const done = await call<OperationResource>("GET", `/v1/operations/${transfer.body.id}?wait=10`, {
    key,
    expect: 200,
  });
  step(
    "Wait for the transfer (GET /v1/operations/:id?wait=10)",
    `${status(done.body)} after ${Math.round(performance.now() - started)} ms`,
  );

  const tooMuch = await call<OperationResource>("POST", "/v1/transfers", {
    key,
    body: { fromWalletId: bob.id, toWalletId: alice.id, amount: 1_000_000 },
    idempotencyKey: randomUUID(),
    expect: 202,
  });
  const refused = await call<OperationResource>("GET", `/v1/operations/${tooMuch.body.id}?wait=10`, {
    key,
    expect: 200,
  });
  step(
    `Transfer ${money(1_000_000, "USD")} bob → alice (more than bob has)`,
    `202 accepted, then ${status(refused.body)}`,
  );

  const topUpNow = await call<OperationResource>("GET", `/v1/operations/${topUp.body.id}`, {
    key,
    expect: 200,
  });
  const wallets = await Promise.all(
    [alice, bob].map(
      async (w) => (await call<WalletResource>("GET", `/v1/wallets/${w.id}`, { key, expect: 200 })).body,
    ),
  );
  const names = new Map(wallets.map((w) => [w.id, w.metadata.name ?? short(w.id)]));

  console.log("\nOperations");
  console.log(
    table(
      [topUpNow.body, done.body, refused.body].map((op) => ({
        operation: short(op.id),
        type: op.type,
        from: op.fromWalletId ? (names.get(op.fromWalletId) ?? short(op.fromWalletId)) : "(funding)",
        to: op.toWalletId ? (names.get(op.toWalletId) ?? short(op.toWalletId)) : "(funding)",
        amount: money(op.amount, op.currency),
        status: status(op),
      })),
      ["amount"],
    ),
  );

  console.log("\nBalances");
  console.log(
    table(
      wallets.map((w) => ({
        wallet: names.get(w.id) ?? "",
        id: w.id,
        balance: money(w.balance, w.currency),
        version: String(w.version),
      })),
      ["balance", "version"],
    ),
  );

  for (const w of wallets) {
    const page = await call<Page<EntryResource>>("GET", `/v1/wallets/${w.id}/entries`, { key, expect: 200 });
    console.log(`\nEntries of ${names.get(w.id)} (newest first; each balanceAfter = previous + amount)`);
    console.log(
      table(
        page.body.data.map((e) => ({
          entry: short(e.id),
          operation: short(e.operationId),
          amount: money(e.amount, w.currency),
          balanceAfter: money(e.balanceAfter, w.currency),
          createdAt: e.createdAt,
        })),
        ["amount", "balanceAfter"],
      ),
    );
  }

  const webhooksOk = endpoint ? await showWebhooks(key, endpoint, receiver, 3) : true;

  const expected =
    webhooksOk &&
    same &&
    topUpNow.body.status === "succeeded" &&
    done.body.status === "succeeded" &&
    refused.body.failure?.code === "insufficient_funds" &&
    wallets[0]?.balance === 7_450 &&
    wallets[1]?.balance === 2_550;
  if (!expected) {
    console.error(
      "\ndemo: the outcome is not the expected one (see above). An operation still pending after" +
        " 10 s usually means no worker is running; a missing webhook, that the workers cannot reach" +
        ` ${webhookHost} (DEMO_WEBHOOK_HOST).`,
    );
    return 1;
  }
  console.log("\ndemo: done. Money moved exactly once; the refused transfer moved none.");
  return 0;
}

/** Subscribes the receiver; undefined (and the api's reason) when the api refuses the endpoint. */
async function registerReceiver(key: string, receiver: DemoReceiver): Promise<string | undefined> {
  const url = `http://${webhookHost}:${receiver.port}/webhooks`;
  const created = await call<{ id: string; secret: string; errors?: { message: string }[] }>(
    "POST",
    "/v1/webhook-endpoints",
    {
      key,
      body: { url },
      expect: [201, 400],
    },
  );
  if (created.status !== 201) {
    // The api's own reason: a private address refused, or a host name it cannot resolve.
    const why = created.body.errors?.map((e) => e.message).join("; ") || "refused";
    const hint =
      "set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true on the api and the workers to include webhooks, and " +
      "DEMO_WEBHOOK_HOST to an address at which they reach this machine";
    step(`Register a webhook receiver at ${url}`, `refused (${why}): ${hint}`);
    if (requireWebhooks)
      throw new DemoError("DEMO_REQUIRE_WEBHOOKS=true: the webhook part cannot be skipped");
    return undefined;
  }
  receiver.secret = created.body.secret;
  step(
    `Register a webhook receiver at ${url} (POST /v1/webhook-endpoints)`,
    `endpoint ${short(created.body.id)}, secret ${created.body.secret.slice(0, 10)}… (shown once)`,
  );
  return created.body.id;
}

/** Waits (10 s at most) for `count` deliveries, prints them, and says whether each verified. */
async function showWebhooks(
  key: string,
  endpoint: string,
  receiver: DemoReceiver,
  count: number,
): Promise<boolean> {
  for (let i = 0; i < 100 && receiver.received.length < count; i++) await sleep(100);
  const deliveries = await call<Page<WebhookDeliveryResource>>(
    "GET",
    `/v1/webhook-endpoints/${endpoint}/deliveries`,
    { key, expect: 200 },
  );
  const attempts = new Map(deliveries.body.data.map((d) => [`msg_${d.id}`, d]));
  console.log("\nWebhooks received (each verified with the standardwebhooks library)");
  console.log(
    table(
      receiver.received.map((r) => ({
        "webhook-id": `msg_…${r.id.slice(-8)}`,
        type: r.type,
        operation: short(r.operationId),
        status: r.status,
        signature: r.verified ? "verified" : "INVALID",
        delivery: `${attempts.get(r.id)?.status ?? "?"} after ${attempts.get(r.id)?.attempts ?? "?"} attempt(s)`,
      })),
    ),
  );
  return receiver.received.length >= count && receiver.received.every((r) => r.verified);
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`demo: ${err instanceof DemoError ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await openReceiver?.close();
}
