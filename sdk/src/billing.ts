import { Clients } from "./resources/clients.ts";
import { Holds, Payouts, Refunds, TopUps, Transfers } from "./resources/money-movements.ts";
import { Operations } from "./resources/operations.ts";
import { Wallets } from "./resources/wallets.ts";
import { WebhookEndpoints } from "./resources/webhook-endpoints.ts";
import { type BillingOptions, Transport } from "./transport.ts";

/**
 * A client of the wallet billing API, one resource a property:
 *
 * ```ts
 * const billing = new Billing({ apiKey: process.env.BILLING_API_KEY, baseUrl: "https://billing.example" });
 * const wallet = await billing.wallets.create({ currency: "USD" });
 * const { operation } = await billing.topUps.create({ walletId: wallet.id, amount: 10_000 });
 * const done = await billing.operations.wait(operation.id, { timeoutMs: 10_000 });
 * ```
 *
 * Every call retries connection errors, 429 and 503 (after `Retry-After`) where that is safe,
 * and throws a `BillingError` carrying the problem body otherwise (see ./retry.ts).
 */
export class Billing {
  readonly clients: Clients;
  readonly wallets: Wallets;
  readonly topUps: TopUps;
  readonly transfers: Transfers;
  readonly payouts: Payouts;
  readonly holds: Holds;
  readonly refunds: Refunds;
  readonly operations: Operations;
  readonly webhookEndpoints: WebhookEndpoints;

  constructor(options: BillingOptions) {
    const transport = new Transport(options);
    this.clients = new Clients(transport);
    this.wallets = new Wallets(transport);
    this.topUps = new TopUps(transport);
    this.transfers = new Transfers(transport);
    this.payouts = new Payouts(transport);
    this.holds = new Holds(transport);
    this.refunds = new Refunds(transport);
    this.operations = new Operations(transport);
    this.webhookEndpoints = new WebhookEndpoints(transport);
  }
}
