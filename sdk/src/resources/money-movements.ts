import type { CallOptions, Transport } from "../transport.ts";
import type {
  Accepted,
  CaptureHold,
  CreateHold,
  CreatePayout,
  CreateRefund,
  CreateTopUp,
  CreateTransfer,
  Operation,
  VoidHold,
} from "../types.ts";

/** A money movement's call options: its Idempotency-Key, generated unless given. */
export interface AcceptOptions extends CallOptions {
  /**
   * 1..255 printable ASCII. Give your own when the call may be repeated after this process
   * stops (store it with the order it pays for); otherwise a new UUID is generated per call and
   * kept across that call's retries, so a retry can never move the money twice.
   */
  idempotencyKey?: string;
}

/**
 * POSTs a money movement (202): one Idempotency-Key per call, the same on every retry, so the
 * API applies it once however many attempts reach it. Payouts, holds, captures and voids take
 * this same path.
 */
export async function accept(
  transport: Transport,
  path: string,
  body: object,
  options: AcceptOptions = {},
): Promise<Accepted> {
  const { idempotencyKey = globalThis.crypto.randomUUID(), ...call } = options;
  const reply = await transport.request<Operation>({
    method: "POST",
    path,
    body,
    idempotencyKey,
    repeatable: "safe",
    options: call,
  });
  return {
    operation: reply.body,
    replayed: reply.headers.get("idempotent-replayed") === "true",
    idempotencyKey,
    requestId: reply.headers.get("x-request-id") ?? "",
  };
}

/** `POST /v1/top-ups`: credits the client's own wallet from outside, asynchronously. */
export class TopUps {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  create(body: CreateTopUp, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, "/v1/top-ups", body, options);
  }
}

/** `POST /v1/transfers`: from one of the client's wallets to any wallet of the same currency. */
export class Transfers {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  create(body: CreateTransfer, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, "/v1/transfers", body, options);
  }
}

/** `POST /v1/payouts`: money leaves the system from the client's own wallet (its available balance). */
export class Payouts {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  create(body: CreatePayout, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, "/v1/payouts", body, options);
  }
}

/**
 * Holds (authorize, then capture or void): `create` reserves money of the client's wallet for a
 * destination, `capture` moves all or part of it (the rest is released), `void` releases it.
 * A hold still active at its `expiresAt` is voided by the system, unless a capture or void
 * accepted before then still waits to be applied (that step decides the hold).
 */
export class Holds {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  create(body: CreateHold, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, "/v1/holds", body, options);
  }

  /** Captures `amount` of the hold (all of it when left out); `holdId` is the hold operation's id. */
  capture(holdId: string, body: CaptureHold = {}, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, `/v1/holds/${encodeURIComponent(holdId)}/capture`, body, options);
  }

  void(holdId: string, body: VoidHold = {}, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, `/v1/holds/${encodeURIComponent(holdId)}/void`, body, options);
  }
}

/**
 * `POST /v1/refunds`: sends all or part of a succeeded transfer or capture back, from the
 * client's wallet that received it to the wallet it came from. Several partial refunds may
 * follow; their succeeded sum never passes the original's amount.
 */
export class Refunds {
  readonly #transport: Transport;
  constructor(transport: Transport) {
    this.#transport = transport;
  }

  create(body: CreateRefund, options?: AcceptOptions): Promise<Accepted> {
    return accept(this.#transport, "/v1/refunds", body, options);
  }
}
