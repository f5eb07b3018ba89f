import { PageIterator } from "../pages.ts";
import type { CallOptions, Transport } from "../transport.ts";
import type { BalanceAt, CreateWallet, Entry, Page, PageQuery, Wallet } from "../types.ts";

/** `/v1/wallets`: the client's wallets and their ledger entries. */
export class Wallets {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Opens a wallet (balance 0; USD unless `currency` says otherwise). Not idempotent: a
   * connection error is retried only when the connection was refused (nothing was sent).
   */
  async create(body: CreateWallet = {}, options?: CallOptions): Promise<Wallet> {
    return (
      await this.#transport.request<Wallet>({
        method: "POST",
        path: "/v1/wallets",
        body,
        repeatable: "once",
        options,
      })
    ).body;
  }

  /** One of the client's wallets (another client's is a `wallet_not_found`, as a missing one). */
  async get(id: string, options?: CallOptions): Promise<Wallet> {
    const path = `/v1/wallets/${encodeURIComponent(id)}`;
    return (await this.#transport.request<Wallet>({ method: "GET", path, repeatable: "safe", options })).body;
  }

  /** The wallet's posted balance and version as of `at` (its entries at or before it; 0 before the first). */
  async balanceAt(id: string, at: Date | string, options?: CallOptions): Promise<BalanceAt> {
    const path = `/v1/wallets/${encodeURIComponent(id)}/balance`;
    const query = { at: typeof at === "string" ? at : at.toISOString() };
    return (
      await this.#transport.request<BalanceAt>({ method: "GET", path, query, repeatable: "safe", options })
    ).body;
  }

  /** The client's wallets, newest first. */
  list(query: PageQuery = {}, options?: CallOptions): PageIterator<Wallet> {
    return pages<Wallet>(this.#transport, "/v1/wallets", query, options);
  }

  /** A wallet's ledger entries, newest first: each `balanceAfter` is the previous one's plus its `amount`. */
  entries(id: string, query: PageQuery = {}, options?: CallOptions): PageIterator<Entry> {
    return pages<Entry>(this.#transport, `/v1/wallets/${encodeURIComponent(id)}/entries`, query, options);
  }
}

/** A list whose only parameters are `limit` and `cursor`. */
export function pages<T>(
  transport: Transport,
  path: string,
  query: PageQuery,
  options?: CallOptions,
): PageIterator<T> {
  const { cursor, limit } = query;
  return new PageIterator(async (after) => {
    const reply = await transport.request<Page<T>>({
      method: "GET",
      path,
      query: { limit, cursor: after },
      repeatable: "safe",
      options,
    });
    return reply.body;
  }, cursor);
}
