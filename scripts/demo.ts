import { setTimeout as sleep } from "node:timers/promises";
import {
  Billing,
  BillingConnectionError,
  BillingError,
  type Entry,
  type Operation,
  type Wallet,
  type WebhookDelivery,
} from "../sdk/src/index.ts";
import { money, table } from "./demo-format.ts";
import { type DemoReceiver, startDemoReceiver } from "./demo-receiver.ts";

/**
 * `npm run demo` (or `node scripts/demo.ts`): walks a running system through one story and prints
 * what happened, through the TypeScript client (sdk/). The operator creates a client; the client
 * opens two wallets, tops one up and transfers from it at once, repeats the transfer under the
 * same Idempotency-Key, waits for the outcome (`operations.wait`), tries a transfer it cannot
 * afford, holds money and captures part of it, refunds part of the capture, and reads balances
 * and entries. A local webhook receiver hears about each outcome and
 * verifies every delivery's signature (`verifyWebhook`).
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

class DemoError extends Error {}
let openReceiver: DemoReceiver | undefined;

// ---- presentation ----
let steps = 0;
const step = (what: string, outcome: string) => console.log(`${++steps}. ${what}\n   → ${outcome}`);
/** The random tail of a UUIDv7 (its head is a timestamp, the same for everything made in one second). */
const short = (id: string) => `…${id.slice(-8)}`;
const status = (op: Operation) => (op.failure ? `${op.status} (${op.failure.code})` : op.status);

// ---- the story ----

async function main(): Promise<number> {
  console.log(`Wallet billing demo against ${apiUrl}\n`);
  const operator = new Billing({ apiKey: adminToken ?? "", baseUrl: apiUrl });

  const client = await operator.clients.create({ name: `Demo client ${new Date().toISOString()}` });
  const key = client.apiKey;
  step(
    "Operator creates a client (clients.create: POST /v1/clients)",
    `client ${short(client.id)}, key ${key.slice(0, 7)}… (shown once)`,
  );
  const billing = new Billing({ apiKey: key, baseUrl: apiUrl });

  const open = (name: string) => billing.wallets.create({ currency: "USD", metadata: { name } });
  const alice = await open("alice");
  const bob = await open("bob");
  step(
    "Client opens two USD wallets (wallets.create: POST /v1/wallets)",
    `alice ${short(alice.id)}, bob ${short(bob.id)}`,
  );

  const receiver = await startDemoReceiver();
  // Closed whatever happens next: a listening server would keep a failed demo from exiting.
  openReceiver = receiver;
  const endpoint = await registerReceiver(billing, receiver);

  // The client generates the Idempotency-Key (and keeps it across its retries).
  const topUp = await billing.topUps.create({ walletId: alice.id, amount: 10_000 });
  step(
    `Top up alice with ${money(10_000, "USD")} (topUps.create: POST /v1/top-ups)`,
    `202 ${topUp.operation.status}, operation ${short(topUp.operation.id)}, Idempotency-Key ${short(topUp.idempotencyKey)}`,
  );

  // Sent without waiting for the top-up: operations debiting one wallet are applied in
  // acceptance order, so the funds are there when the transfer is applied. Our own key this
  // time, to repeat the request below.
  const transferKey = `demo-transfer-${crypto.randomUUID()}`;
  const transferBody = {
    fromWalletId: alice.id,
    toWalletId: bob.id,
    amount: 2_550,
    metadata: { note: "lunch" },
  };
  const transfer = await billing.transfers.create(transferBody, { idempotencyKey: transferKey });
  step(
    `Transfer ${money(2_550, "USD")} alice → bob at once (transfers.create: POST /v1/transfers)`,
    `202 ${transfer.operation.status}, operation ${short(transfer.operation.id)}`,
  );

  const replay = await billing.transfers.create(transferBody, { idempotencyKey: transferKey });
  const same = replay.operation.id === transfer.operation.id;
  step(
    "The same transfer again, same Idempotency-Key",
    `202, Idempotent-Replayed: ${replay.replayed}, ${same ? "same operation" : "A DIFFERENT OPERATION"}`,
  );

  const started = performance.now();
  const done = await billing.operations.wait(transfer.operation.id, { timeoutMs: 10_000 });
  step(
    "Wait for the transfer (operations.wait: GET /v1/operations/:id?wait=N)",
    `${status(done)} after ${Math.round(performance.now() - started)} ms`,
  );

  const tooMuch = await billing.transfers.create({
    fromWalletId: bob.id,
    toWalletId: alice.id,
    amount: 1_000_000,
  });
  const refused = await billing.operations.wait(tooMuch.operation.id, { timeoutMs: 10_000 });
  step(
    `Transfer ${money(1_000_000, "USD")} bob → alice (more than bob has)`,
    `202 accepted, then ${status(refused)}`,
  );

  // Authorize, then capture in part: 20.00 reserved for bob, 15.00 of it moved, 5.00 released.
  const hold = await billing.holds.create({ fromWalletId: alice.id, toWalletId: bob.id, amount: 2_000 });
  const placed = await billing.operations.wait(hold.operation.id, { timeoutMs: 10_000 });
  const held = await billing.wallets.get(alice.id);
  step(
    `Hold ${money(2_000, "USD")} of alice for bob (holds.create: POST /v1/holds)`,
    `${status(placed)}; alice's heldBalance ${money(held.heldBalance, "USD")}, available ${money(held.availableBalance, "USD")}, no entry yet`,
  );
  const capture = await billing.holds.capture(hold.operation.id, { amount: 1_500 });
  const captured = await billing.operations.wait(capture.operation.id, { timeoutMs: 10_000 });
  const holdNow = await billing.operations.get(hold.operation.id);
  step(
    `Capture ${money(1_500, "USD")} of it (holds.capture: POST /v1/holds/:id/capture)`,
    `${status(captured)}; the hold is ${holdNow.hold?.status}, ${money(holdNow.hold?.capturedAmount ?? 0, "USD")} moved, the rest released`,
  );

  // Bob, who received the capture, refunds part of it: 5.00 goes back to alice.
  const refund = await billing.refunds.create({ operationId: capture.operation.id, amount: 500 });
  const refunded = await billing.operations.wait(refund.operation.id, { timeoutMs: 10_000 });
  const captureNow = await billing.operations.get(capture.operation.id);
  step(
    `Refund ${money(500, "USD")} of the capture, bob → alice (refunds.create: POST /v1/refunds)`,
    `${status(refunded)}; the capture's refundedAmount is ${money(captureNow.refundedAmount ?? 0, "USD")}`,
  );

  const topUpNow = await billing.operations.get(topUp.operation.id);
  const wallets: Wallet[] = await Promise.all([alice, bob].map((w) => billing.wallets.get(w.id)));
  const names = new Map(wallets.map((w) => [w.id, w.metadata.name ?? short(w.id)]));

  console.log("\nOperations");
  console.log(
    table(
      [topUpNow, done, refused, holdNow, captureNow, refunded].map((op) => ({
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
        held: money(w.heldBalance, w.currency),
        version: String(w.version),
      })),
      ["balance", "held", "version"],
    ),
  );

  for (const w of wallets) {
    // wallets.entries follows nextCursor: every entry, newest first.
    const entries: Entry[] = [];
    for await (const e of billing.wallets.entries(w.id)) entries.push(e);
    console.log(`\nEntries of ${names.get(w.id)} (newest first; each balanceAfter = previous + amount)`);
    console.log(
      table(
        entries.map((e) => ({
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

  const webhooksOk = endpoint ? await showWebhooks(billing, endpoint, receiver, 6) : true;

  const expected =
    webhooksOk &&
    same &&
    replay.replayed &&
    topUpNow.status === "succeeded" &&
    done.status === "succeeded" &&
    refused.failure?.code === "insufficient_funds" &&
    captured.status === "succeeded" &&
    holdNow.hold?.capturedAmount === 1_500 &&
    refunded.status === "succeeded" &&
    captureNow.refundedAmount === 500 &&
    wallets[0]?.balance === 6_450 &&
    wallets[0]?.heldBalance === 0 &&
    wallets[1]?.balance === 3_550;
  if (!expected) {
    console.error(
      "\ndemo: the outcome is not the expected one (see above). An operation still pending after" +
        " 10 s usually means no worker is running; a missing webhook, that the workers cannot reach" +
        ` ${webhookHost} (DEMO_WEBHOOK_HOST).`,
    );
    return 1;
  }
  console.log(
    "\ndemo: done. Money moved exactly once; the refused transfer moved none; the hold moved what was captured; the refund sent part of it back.",
  );
  return 0;
}

/** Subscribes the receiver; undefined (and the api's reason) when the api refuses the endpoint. */
async function registerReceiver(billing: Billing, receiver: DemoReceiver): Promise<string | undefined> {
  const url = `http://${webhookHost}:${receiver.port}/webhooks`;
  try {
    const created = await billing.webhookEndpoints.create({ url });
    receiver.secret = created.secret;
    step(
      `Register a webhook receiver at ${url} (webhookEndpoints.create: POST /v1/webhook-endpoints)`,
      `endpoint ${short(created.id)}, secret ${created.secret.slice(0, 10)}… (shown once)`,
    );
    return created.id;
  } catch (err) {
    if (!(err instanceof BillingError && err.code === "validation_error")) throw err;
    // The api's own reason: a private address refused, or a host name it cannot resolve.
    const why = err.errors.map((e) => e.message).join("; ") || "refused";
    const hint =
      "set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true on the api and the workers to include webhooks, and " +
      "DEMO_WEBHOOK_HOST to an address at which they reach this machine";
    step(`Register a webhook receiver at ${url}`, `refused (${why}): ${hint}`);
    if (requireWebhooks)
      throw new DemoError("DEMO_REQUIRE_WEBHOOKS=true: the webhook part cannot be skipped");
    return undefined;
  }
}

/** Waits (10 s at most) for `count` deliveries, prints them, and says whether each verified. */
async function showWebhooks(
  billing: Billing,
  endpoint: string,
  receiver: DemoReceiver,
  count: number,
): Promise<boolean> {
  for (let i = 0; i < 100 && receiver.received.length < count; i++) await sleep(100);
  const deliveries: WebhookDelivery[] = [];
  for await (const d of billing.webhookEndpoints.deliveries(endpoint)) deliveries.push(d);
  const attempts = new Map(deliveries.map((d) => [`msg_${d.id}`, d]));
  console.log("\nWebhooks received (each verified with verifyWebhook, on the standardwebhooks library)");
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

/** What went wrong, for a person: the api unreachable, the operator token refused, or the error. */
function explain(err: unknown): string {
  if (err instanceof DemoError) return err.message;
  if (err instanceof BillingConnectionError) {
    return (
      `cannot reach the api at ${apiUrl} (${err.message}).\n` +
      "Start the system first (docker compose up, or npm run up) or set API_URL."
    );
  }
  if (err instanceof BillingError) {
    const hint = err.status === 401 ? " (is ADMIN_TOKEN the api's?)" : "";
    return `the api answered ${err.status} ${err.code}${hint}: ${err.problem.detail} (request ${err.requestId})`;
  }
  return String(err);
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`demo: ${explain(err)}`);
  process.exitCode = 1;
} finally {
  await openReceiver?.close();
}
