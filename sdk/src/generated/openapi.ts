export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description 200 while the process runs. Checks nothing else: use /readyz for the dependencies.
         */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description 200 when Postgres and Redis each answer within 1 s; else 503 `overloaded` naming the one that did not (in `checks` and `detail`). Also 503 while the process shuts down, so that a load balancer stops sending it requests.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Prometheus text exposition of this api process (HTTP latency by route template and status, operations accepted, refusals, backlog per partition, process metrics). Unauthenticated: do not expose it publicly. Workers serve their own on METRICS_PORT.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This document
         * @description OpenAPI 3.1, generated from the zod schemas that validate the requests.
         */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * API reference page
         * @description An HTML page that renders /openapi.json with Scalar's API reference, whose script this api serves itself (GET /docs/api-reference.js): it works without internet. Without JavaScript it shows the title, a link to /openapi.json and the list of operations.
         */
        get: operations["getDocsPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs/api-reference.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The API reference's script
         * @description The browser bundle of `@scalar/api-reference`, the exact version the repository pins, served from the installed package (or the build's copy of it). Loaded by /docs with Subresource Integrity.
         */
        get: operations["getDocsScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/clients": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a client (operator only)
         * @description Only the operator's token (ADMIN_TOKEN) may call this. The client's API key is in this answer and nowhere else: only its SHA-256 and a short prefix are stored.
         */
        post: operations["createClient"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/wallets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the client's wallets
         * @description The calling client's wallets only. Pages are newest first; `nextCursor` is null on the last page.
         */
        get: operations["listWallets"];
        put?: never;
        /**
         * Open a wallet
         * @description A new wallet of the calling client, balance 0. Send `{}` for a USD wallet without metadata.
         */
        post: operations["createWallet"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/wallets/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a wallet
         * @description The client's own wallet. Another client's wallet is a 404, exactly like one that does not exist.
         */
        get: operations["getWallet"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/wallets/{id}/balance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A wallet's balance at an instant
         * @description The posted balance and version as of `at`: every entry whose `createdAt`, as the API shows it (milliseconds), is at or before `at` counts; 0 and 0 before the first entry. Held money is not part of it (holds post no entry). `at` is required, an ISO 8601 time with `Z` or an offset, not later than the server's clock (else 400): the database's clock, which stamps the entries, not the api host's. The answer for an instant never changes: it counts every entry that will ever be dated at or before `at`. There is no margin: an `at` as recent as the server's clock now is answered, once an operation posting to this wallet at that moment has committed (the request waits for it, usually milliseconds) and the server's clock has left `at`'s millisecond (at most 1 ms). A commit that takes longer than the database statement timeout (`DB_STATEMENT_TIMEOUT_MS`, 10 s by default) is a 503 `overloaded`; ask again. A binary search of the wallet's entries: about 20 index probes for a million entries.
         */
        get: operations["getWalletBalance"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/wallets/{id}/entries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List a wallet's ledger entries
         * @description Entries in posting order, newest first: read oldest to newest, each entry's `balanceAfter` is the previous one's plus its `amount`, and the newest one's equals the wallet's balance. A credit's `operationId` may name another client's operation, which this client cannot fetch. Pages are newest first; `nextCursor` is null on the last page.
         */
        get: operations["listWalletEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/operations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the client's operations
         * @description Operations the calling client submitted, optionally those touching one of its wallets (as source or destination), in one status and/or of one type (`?type=hold`, …). A `walletId` the client does not own is a 404 `wallet_not_found`. Pages are newest first; `nextCursor` is null on the last page. A page filtered by `walletId`, `type` or a final status examines at most 1,000 operations (per side of the wallet) and may then hold fewer than `limit` items, even none, with a `nextCursor` that goes on from where it stopped: a short page is not the last one, a null `nextCursor` is. Unfiltered and `?status=pending` pages are always full.
         */
        get: operations["listOperations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/operations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get an operation (optionally waiting for it)
         * @description An operation the calling client submitted; any other id is a 404. Status is read from the database. With `?wait=N` (seconds, 0..30) the request is held until the operation is no longer `pending` or N seconds pass, then answers with its current state (still `pending` at the deadline is a 200, not an error); a server shutting down answers held requests at once. The request holds no database connection while it waits.
         */
        get: operations["getOperation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/top-ups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Top up a wallet
         * @description Credits the client's own wallet with money from outside (the currency's funding account), asynchronously. Operations that check the same wallet's balance (its top-ups, its outgoing transfers) are applied in acceptance order. Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["createTopUp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/transfers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Transfer between wallets
         * @description Moves money from one of the client's wallets to any existing wallet of the same currency (another client's too: wallet ids cannot be guessed, but the outcome does reveal whether a destination exists), asynchronously. `fromWalletId == toWalletId` is a 400. Transfers out of a wallet are applied in the order they were accepted; the source's balance is checked then (`insufficient_funds`), and so is the destination's upper bound (`balance_limit_exceeded`). The receiver may refund it (`POST /v1/refunds`). Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["createTransfer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/payouts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pay money out of a wallet
         * @description Money leaves the system (a withdrawal to the outside world): the client's own wallet is debited and the currency's funding account credited, asynchronously. The wallet's available balance (its balance less its active holds) is checked when the payout is applied (`insufficient_funds`). Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["createPayout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/holds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reserve money (authorize)
         * @description Reserves `amount` of the source wallet's available balance for a later capture to `toWalletId` (any existing wallet of the same currency), asynchronously: once applied the source's `heldBalance` grows and its `availableBalance` shrinks, no entry is posted, and the operation's `hold` shows the hold's state; or it fails `insufficient_funds`. A hold still active at `expiresAt` (its `createdAt` plus `expiresInSeconds`) is voided by the system: a `void` operation with `metadata.reason = "expired"` appears in the client's operations and webhooks, unless a capture or void accepted before `expiresAt` is still waiting to be applied (that step decides the hold). A hold, its capture and its void are applied in acceptance order with the source wallet's other debits. A hold is captured or voided at most once, whatever arrives concurrently: the first applied wins, the rest fail `hold_not_active`, as does a capture or void of a hold whose own operation failed, or one accepted at or after the hold's `expiresAt`. A capture may be accepted while its hold is still pending: it is applied after it. Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["createHold"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/holds/{id}/capture": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Capture a hold, wholly or in part
         * @description Moves `amount` (all of the hold by default) from the hold's source to its destination (two entries) and releases the rest of the hold. `:id` is the hold operation's id. A capture above the held amount is a 422 `amount_exceeds_hold` at once. The request hash covers the body as sent: a capture without `amount` and one with the full amount are different requests under one key. A capture that fails (`balance_limit_exceeded` on the destination) leaves the hold active. The receiver may refund it (`POST /v1/refunds`). A hold, its capture and its void are applied in acceptance order with the source wallet's other debits. A hold is captured or voided at most once, whatever arrives concurrently: the first applied wins, the rest fail `hold_not_active`, as does a capture or void of a hold whose own operation failed, or one accepted at or after the hold's `expiresAt`. A capture may be accepted while its hold is still pending: it is applied after it. Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["captureHold"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/holds/{id}/void": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Void a hold
         * @description Releases all of the hold: no entry is posted; the source's `heldBalance` shrinks by the hold's amount. The void's `amount` is the amount it releases. A hold, its capture and its void are applied in acceptance order with the source wallet's other debits. A hold is captured or voided at most once, whatever arrives concurrently: the first applied wins, the rest fail `hold_not_active`, as does a capture or void of a hold whose own operation failed, or one accepted at or after the hold's `expiresAt`. A capture may be accepted while its hold is still pending: it is applied after it. Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["voidHold"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/refunds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Refund a transfer or capture, wholly or in part
         * @description Sends money back along `operationId`, the original: a `succeeded` `transfer` or `capture` whose destination wallet is this client's. The receiver refunds, as a merchant refunds a charge; the original may have been submitted by another client (its id is on the receiver's entries). The refund debits the original's `toWalletId` and credits its `fromWalletId` (its own `fromWalletId` and `toWalletId` are those, swapped), and names the original in `refundOf`; it is applied in acceptance order with the other debits of the wallet it debits. Refunds may be partial and several: the original's `refundedAmount` is the sum of its succeeded refunds, and however many arrive at once, concurrently or in a bulk, that sum never passes the original's amount. At acceptance: 404 `operation_not_found` for an id this client neither submitted nor received; 422 `operation_not_refundable` for one it did that is not such an original (another type, a transfer it sent into another client's wallet, one still `pending` or `failed`); 422 `amount_exceeds_refundable` for more than the original's amount. When applied, it fails `insufficient_funds` (the refunding wallet's available balance), `balance_limit_exceeded`, or `amount_exceeds_refundable` (the original's succeeded refunds and this one would pass its amount). The request hash covers the body as sent: a refund without `amount` and one with the full amount are different requests under one key. Checked at once, in this order: authentication (401), the Idempotency-Key header and the body (400), the idempotency key (a replay answers here; another body under the key is 422), the wallets (404, 422), backpressure (503, never for a replay). Balances are checked when the operation is applied: an operation that cannot be applied ends `failed` with `failure.code`.
         */
        post: operations["createRefund"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/operations/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit up to 1,000 operations at once
         * @description Each item is its own operation, accepted or refused on its own with the single route's checks, in the same order and with the same codes; its `idempotencyKey` follows the Idempotency-Key header's rules and shares its key space (an item and a single request with the same key and body are one operation). Items that debit the same wallet are accepted, and so applied, in array order. Two items with the same key: the first is the operation, a later one with the same body its replay (`replayed: true`), one with another body 422 `idempotency_key_reused`. Answered 200 with one result per item, in order: `{ status: 202, replayed, operation }` or `{ status: 400 | 404 | 422, error }` (a problem whose `requestId` is this request's), or `{ status: 500 | 503, error }` for an item the database failed on while others were accepted (a 503 item says whether it was created, as a single request's 503 does). The request is refused as a whole, and nothing created, only for its envelope: 400 `validation_error` when the body is not `{ "operations": [1..1000 objects] }` (an item's own errors go in its result), 413 over 1 MiB, 415, 429 (a bulk of n items counts n against the rate limit), 503 `overloaded` (backpressure, or the database failed and nothing of the request was created; retrying with the same keys is safe). Overloaded, a bulk none of whose items would create an operation (each item's key already taken, or the item refused by its own schema) is still answered, as each item alone would be: a replay is never refused.
         */
        post: operations["submitOperations"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-endpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the client's webhook endpoints
         * @description Live (not deleted) endpoints of the calling client, newest first; never their secrets.
         */
        get: operations["listWebhookEndpoints"];
        put?: never;
        /**
         * Create a webhook endpoint
         * @description When an operation of this client reaches `succeeded` or `failed`, each of its endpoints subscribed to that event gets a POST with body `{ type, timestamp, data: <operation> }` and the Standard Webhooks headers `webhook-id` (the same on every retry of one message), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64-decoded part of the secret after `whsec_`). Delivery is at least once and unordered: a non-2xx answer, a redirect (never followed) or a timeout is retried on the WEBHOOK_RETRY_SCHEDULE; after the last attempt the delivery is `failed`. The URL must be http(s) and its host must be, or resolve only to, public unicast addresses (loopback, private, link-local, unique-local and similar addresses are refused in any notation, and checked again against the address connected to at delivery), unless the operator set WEBHOOK_ALLOW_PRIVATE_NETWORKS. A client may have at most 16 live endpoints. The signing secret is in this answer only.
         */
        post: operations["createWebhookEndpoint"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-endpoints/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint
         * @description The endpoint gets no further delivery: its pending deliveries become `failed` (an attempt already under way finishes). Another client's endpoint, or one already deleted, is a 404.
         */
        delete: operations["deleteWebhookEndpoint"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-endpoints/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List an endpoint's deliveries
         * @description One delivery per event sent to this endpoint, newest first, with the attempts made so far, the status code of the latest and when the next is due.
         */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Problem: {
            /** @description `/problems/<code>` */
            type: string;
            title: string;
            /** Format: int32 */
            status: number;
            /** @description What went wrong and what to do, for a human */
            detail: string;
            /**
             * @description Stable machine-readable code (docs/api.md, Errors)
             * @enum {string}
             */
            code: "validation_error" | "idempotency_key_required" | "unauthorized" | "forbidden" | "not_found" | "wallet_not_found" | "hold_not_found" | "amount_exceeds_hold" | "operation_not_found" | "operation_not_refundable" | "amount_exceeds_refundable" | "payload_too_large" | "unsupported_media_type" | "idempotency_key_reused" | "currency_mismatch" | "rate_limited" | "overloaded" | "internal_error";
            /** @description The same value as the X-Request-Id header */
            requestId: string;
            /** @description `validation_error` only: each invalid field, e.g. `body.amount`, `query.limit` */
            errors?: {
                path: string;
                message: string;
            }[];
            /** @description `GET /readyz` only: which dependency did not answer */
            checks?: {
                /** @enum {string} */
                postgres: "ok" | "down";
                /** @enum {string} */
                redis: "ok" | "down";
            };
        };
        CreatedClient: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description The client's API key, shown this once: only its SHA-256 is stored */
            apiKey: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
        };
        Wallet: {
            /** Format: uuid */
            id: string;
            /**
             * Format: uuid
             * @description The client that owns the wallet
             */
            clientId: string;
            /** @description ISO 4217 currency code */
            currency: string;
            /**
             * Format: int64
             * @description Minor units; the sum of the wallet's entries
             */
            balance: number;
            /**
             * Format: int64
             * @description Minor units reserved by the wallet's active holds
             */
            heldBalance: number;
            /**
             * Format: int64
             * @description `balance - heldBalance`: what a transfer, payout or hold may debit
             */
            availableBalance: number;
            /**
             * Format: int64
             * @description Number of entries posted to the wallet; grows by one with each
             */
            version: number;
            /** @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000 */
            metadata: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            updatedAt: string;
        };
        WalletPage: {
            data: components["schemas"]["Wallet"][];
            /** @description Pass as `?cursor=` to get the next page; null on the last page */
            nextCursor: string | null;
        };
        BalanceAt: {
            /** Format: uuid */
            walletId: string;
            /** @description ISO 4217 currency code */
            currency: string;
            /**
             * Format: date-time
             * @description The instant asked for
             */
            at: string;
            /**
             * Format: int64
             * @description The posted balance then: the newest entry's balanceAfter at or before `at`
             */
            balance: number;
            /**
             * Format: int64
             * @description The number of entries posted at or before `at`
             */
            version: number;
        };
        EntryPage: {
            data: components["schemas"]["Entry"][];
            /** @description Pass as `?cursor=` to get the next page; null on the last page */
            nextCursor: string | null;
        };
        Entry: {
            /** Format: uuid */
            id: string;
            /**
             * Format: uuid
             * @description The operation that posted it (possibly another client's, for a credit)
             */
            operationId: string;
            /** Format: uuid */
            walletId: string;
            /**
             * Format: int64
             * @description Signed minor units: negative for a debit
             */
            amount: number;
            /**
             * Format: int64
             * @description The wallet's balance right after this entry
             */
            balanceAfter: number;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
        };
        OperationPage: {
            data: components["schemas"]["Operation"][];
            /** @description Pass as `?cursor=` to get the next page; null on the last page */
            nextCursor: string | null;
        };
        Operation: {
            /** Format: uuid */
            id: string;
            /**
             * @description `hold` reserves money, `capture` moves (part of) a hold, `void` releases one, `refund` sends (part of) a transfer or capture back
             * @enum {string}
             */
            type: "top_up" | "transfer" | "payout" | "hold" | "capture" | "void" | "refund";
            /**
             * @description `pending` until a worker applies it; then `succeeded` or `failed`, never changing again
             * @enum {string}
             */
            status: "pending" | "succeeded" | "failed";
            /**
             * Format: int64
             * @description Minor units; a capture's is the amount captured, a void's the amount it releases
             */
            amount: number;
            /** @description ISO 4217 currency code */
            currency: string;
            /** @description The debited (or, for a hold's steps, reserved) wallet; null for a top-up */
            fromWalletId: string | null;
            /** @description The credited wallet (a hold's destination for its steps); null for a payout */
            toWalletId: string | null;
            /** @description The hold operation a capture or void resolves; null for every other type */
            holdId: string | null;
            /** @description The hold's state, on a succeeded `hold` operation only */
            hold: components["schemas"]["Hold"] | null;
            /** @description The transfer or capture a refund sends money back along; null for every other type */
            refundOf: string | null;
            /** @description On a transfer or capture, the sum of its succeeded refunds (0 on a new one), never above `amount`; null for every other type */
            refundedAmount: number | null;
            /** @description Why it failed; null unless `status` is `failed` */
            failure: {
                /**
                 * @description `insufficient_funds` (against the available balance), `balance_limit_exceeded` (a balance may not pass 2^53-1), `hold_not_active` (the hold was captured, voided or expired, or its operation failed), `amount_exceeds_refundable` (a refund: the original's succeeded refunds and this one would pass its amount), `internal_error` (set aside; no money moved)
                 * @enum {string}
                 */
                code: "insufficient_funds" | "balance_limit_exceeded" | "hold_not_active" | "amount_exceeds_refundable" | "internal_error";
                message: string;
            } | null;
            /** @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000 */
            metadata: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description When it was accepted
             */
            createdAt: string;
            /** @description When it left `pending` */
            completedAt: string | null;
        };
        Hold: {
            /**
             * @description `active` until captured, voided (by the client) or expired (voided by the system at `expiresAt`)
             * @enum {string}
             */
            status: "active" | "captured" | "voided" | "expired";
            /**
             * Format: date-time
             * @description The hold operation's createdAt plus expiresInSeconds
             */
            expiresAt: string;
            /** @description Minor units captured; null unless captured */
            capturedAmount: number | null;
            /** @description When the hold stopped being active; null while active */
            releasedAt: string | null;
        };
        BulkResponse: {
            /** @description One result per item, in the items' order */
            data: components["schemas"]["BulkResult"][];
        };
        BulkResult: components["schemas"]["BulkAccepted"] | components["schemas"]["BulkRefused"];
        BulkAccepted: {
            /** @constant */
            status: 202;
            /** @description true when the item's key already held this operation (same body) */
            replayed: boolean;
            operation: components["schemas"]["Operation"];
        };
        BulkRefused: {
            /** @description 400, 404 or 422: the item's own check refused it. 500 or 503: the database failed while inserting this item while others were accepted; a 503 `overloaded` item says whether it was created (its detail says `nothing was created` only when that is certain), and retrying it under its key is safe */
            status: 400 | 404 | 422 | 500 | 503;
            /** @description The problem the single route would have answered; its requestId is the request's */
            error: components["schemas"]["Problem"];
        };
        CreatedWebhookEndpoint: {
            /** Format: uuid */
            id: string;
            /**
             * Format: uri
             * @description Where deliveries are POSTed (http or https; a public address)
             */
            url: string;
            /** @description The outcomes this endpoint hears about */
            events: ("operation.succeeded" | "operation.failed")[];
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            /** @description The signing secret, shown this once: verify deliveries with a Standard Webhooks library keyed with it */
            secret: string;
        };
        WebhookEndpointPage: {
            data: components["schemas"]["WebhookEndpoint"][];
            /** @description Pass as `?cursor=` to get the next page; null on the last page */
            nextCursor: string | null;
        };
        WebhookEndpoint: {
            /** Format: uuid */
            id: string;
            /**
             * Format: uri
             * @description Where deliveries are POSTed (http or https; a public address)
             */
            url: string;
            /** @description The outcomes this endpoint hears about */
            events: ("operation.succeeded" | "operation.failed")[];
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
        };
        WebhookDeliveryPage: {
            data: components["schemas"]["WebhookDelivery"][];
            /** @description Pass as `?cursor=` to get the next page; null on the last page */
            nextCursor: string | null;
        };
        WebhookDelivery: {
            /**
             * Format: uuid
             * @description Also the `webhook-id` of every attempt, prefixed `msg_`
             */
            id: string;
            /** @enum {string} */
            eventType: "operation.succeeded" | "operation.failed";
            /** Format: uuid */
            operationId: string;
            /**
             * @description `failed` after the last attempt, or when the endpoint was deleted
             * @enum {string}
             */
            status: "pending" | "succeeded" | "failed";
            /**
             * Format: int64
             * @description Attempts made so far
             */
            attempts: number;
            /** @description HTTP status (three digits) of the latest attempt; null if none answered */
            lastStatusCode: number | null;
            /** @description When the next attempt is due; null unless pending */
            nextAttemptAt: string | null;
        };
    };
    responses: {
        /** @description `validation_error`: the body, a query parameter or a header does not match its schema (each field in `errors`), or the body is not UTF-8 I-JSON (RFC 7493: an object with two members of the same name, escaped spellings included, is refused, never "the last one wins"), or a number is written with a fraction or an exponent (`1.0`, `1e2`: only integer literals are numbers here), or a member is named `__proto__`, or the path is not percent-encoded UTF-8, or the request is not well-formed HTTP/1.1 (then with a new request id, and the connection closed). An empty body reads as `{}`. `idempotency_key_required`: a POST that moves or reserves money (top-ups, transfers, payouts, holds, the capture and void of a hold, refunds) without an Idempotency-Key. */
        BadRequest: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `unauthorized`: no bearer key, or one that matches nothing. */
        Unauthorized: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `forbidden`: a valid key on a route it may not use (the operator's token on a client route, a client's key on /v1/clients). */
        Forbidden: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `payload_too_large`: the body is over 64 KiB (1 MiB for POST /v1/operations/bulk). */
        PayloadTooLarge: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `unsupported_media_type`: a POST whose Content-Type is not application/json (UTF-8). */
        UnsupportedMediaType: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `rate_limited`: the client made more requests than its policy allows in the current window (see RateLimit-Policy). Nothing was done. */
        RateLimited: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                "Retry-After": components["headers"]["Retry-After"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `internal_error`: an unexpected error. The body never says more. */
        InternalError: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `overloaded`: backpressure (too many operations waiting to be applied, or this server too busy) or the database briefly unavailable. On a POST that moves or reserves money, backpressure creates nothing. When the database failed, the api first reads the key back: an operation that exists is answered 202, and a 503 says either that nothing was created (certain: the insert was refused, never sent, or read back absent after its session was ended) or, when the database stayed unreachable for 10 s after losing the insert's answer, that the request may or may not have been accepted. Retrying with the same Idempotency-Key is safe in every case: it answers the operation if it exists and creates it once if not. */
        Unavailable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                "Retry-After": components["headers"]["Retry-After"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `wallet_not_found`: no such wallet, or another client's (the two are indistinguishable on purpose). */
        WalletNotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `not_found`: no such resource (or none this client may see), or no such route. */
        NotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `idempotency_key_reused`: the Idempotency-Key was used before with a different body; nothing was created. `currency_mismatch` (transfers, holds): the two wallets hold different currencies. `amount_exceeds_hold` (captures): more than the held amount. `operation_not_refundable` (refunds): the original is not a succeeded transfer or capture into this client's wallet. `amount_exceeds_refundable` (refunds): more than the original's amount. */
        Unprocessable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `hold_not_found`: no hold operation with this id is this client's (missing, another client's, or an operation of another type). */
        HoldNotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
        /** @description `operation_not_found`: no operation with this id was submitted or received by this client (missing, or between other clients). */
        OperationNotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                RateLimit: components["headers"]["RateLimit"];
                "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"];
            };
        };
    };
    parameters: {
        /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
        IdempotencyKey: string;
    };
    requestBodies: never;
    headers: {
        /** @description The caller's X-Request-Id if it sent a sane one (1..200 printable ASCII), else a new UUID */
        "X-Request-Id": string;
        /** @description Seconds to wait before retrying */
        "Retry-After": number;
        /** @description Current service limit (draft-ietf-httpapi-ratelimit-headers-10), e.g. `"per-client";r=99987;t=7`: `r` requests left in the window, `t` seconds until it ends. Absent when rate limiting is off or Redis does not answer. */
        RateLimit: string;
        /** @description Quota policy (draft-ietf-httpapi-ratelimit-headers-10), e.g. `"per-client";q=100000;w=10`: `q` requests per client per window of `w` seconds, shared by every api process. */
        "RateLimit-Policy": string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Postgres and Redis answer */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ok";
                        checks: {
                            /** @enum {string} */
                            postgres: "ok" | "down";
                            /** @enum {string} */
                            redis: "ok" | "down";
                        };
                    };
                };
            };
            /** @description A dependency did not answer in time, or the process is shutting down */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text format 0.0.4 */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        openapi: string;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    getDocsPage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
        };
    };
    getDocsScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description JavaScript */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
        };
    };
    createClient: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name: string;
                };
            };
        };
        responses: {
            /** @description The client, with its API key */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedClient"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listWallets: {
        parameters: {
            query?: {
                /** @description Page size, 1..100 (default 20) */
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of wallets */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WalletPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createWallet: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description ISO 4217 currency code
                     * @default USD
                     */
                    currency?: string;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description The wallet */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Wallet"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    getWallet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Wallet id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The wallet */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Wallet"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    getWalletBalance: {
        parameters: {
            query: {
                /** @description ISO 8601 time with Z or an offset, in RFC 3339's form (seconds required, the offset Z or ±hh:mm; t and z in either case; a + sent unencoded, read as a space, is taken as +), e.g. 2026-12-01T00:00:00Z */
                at: string;
            };
            header?: never;
            path: {
                /** @description Wallet id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The balance then */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BalanceAt"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listWalletEntries: {
        parameters: {
            query?: {
                /** @description Page size, 1..100 (default 20) */
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description Wallet id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of entries */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EntryPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listOperations: {
        parameters: {
            query?: {
                /** @description Page size, 1..100 (default 20) */
                limit?: number;
                cursor?: string;
                walletId?: string;
                status?: "pending" | "succeeded" | "failed";
                type?: "top_up" | "transfer" | "payout" | "hold" | "capture" | "void" | "refund";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of operations */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OperationPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    getOperation: {
        parameters: {
            query?: {
                /** @description Seconds to wait while the operation is pending, 0..30 (default 0) */
                wait?: number;
            };
            header?: never;
            path: {
                /** @description Operation id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The operation */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createTopUp: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: uuid */
                    walletId: string;
                    /**
                     * Format: int64
                     * @description Integer number of minor units (cents), 1..9007199254740991
                     */
                    amount: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createTransfer: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: uuid */
                    fromWalletId: string;
                    /** Format: uuid */
                    toWalletId: string;
                    /**
                     * Format: int64
                     * @description Integer number of minor units (cents), 1..9007199254740991
                     */
                    amount: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createPayout: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: uuid */
                    walletId: string;
                    /**
                     * Format: int64
                     * @description Integer number of minor units (cents), 1..9007199254740991
                     */
                    amount: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createHold: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** Format: uuid */
                    fromWalletId: string;
                    /** Format: uuid */
                    toWalletId: string;
                    /**
                     * Format: int64
                     * @description Integer number of minor units (cents), 1..9007199254740991
                     */
                    amount: number;
                    /**
                     * Format: int32
                     * @description Seconds until the system voids the hold if it is still active, 1..2592000 (30 days); 7 days by default
                     * @default 604800
                     */
                    expiresInSeconds?: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["WalletNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    captureHold: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description The hold operation's id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: int64
                     * @description Minor units to move, 1..the held amount; all of it by default
                     */
                    amount?: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["HoldNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    voidHold: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path: {
                /** @description The hold operation's id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["HoldNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createRefund: {
        parameters: {
            query?: never;
            header: {
                /** @description Required. 1..255 printable ASCII, scoped to the client, kept at least 24 hours. The same key with the same body (compared canonically: parsed, defaults applied, keys sorted) answers the same operation again, however often and however concurrently it is sent; with another body it is a 422 and nothing is created. */
                "Idempotency-Key": components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: uuid
                     * @description The original: a succeeded transfer or capture whose destination wallet is the caller's
                     */
                    operationId: string;
                    /**
                     * Format: int64
                     * @description Minor units to send back, 1..the original's amount; all of it by default
                     */
                    amount?: number;
                    /**
                     * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                     * @default {}
                     */
                    metadata?: {
                        [key: string]: string;
                    };
                };
            };
        };
        responses: {
            /** @description Accepted: the operation is stored (`pending`) and will be applied by a worker. A replay of the same key and body answers the same operation in its current state, with `Idempotent-Replayed: true`. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description `/v1/operations/<id>`: poll it, or long-poll with `?wait=N` */
                    Location: string;
                    /** @description Present, `true`, when this answers a replay of an earlier request */
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Operation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["OperationNotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    submitOperations: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description 1..1000 operations, each accepted or refused on its own, answered in this order */
                    operations: ({
                        /** Format: uuid */
                        walletId: string;
                        /**
                         * Format: int64
                         * @description Integer number of minor units (cents), 1..9007199254740991
                         */
                        amount: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "top_up";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                    } | {
                        /** Format: uuid */
                        fromWalletId: string;
                        /** Format: uuid */
                        toWalletId: string;
                        /**
                         * Format: int64
                         * @description Integer number of minor units (cents), 1..9007199254740991
                         */
                        amount: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "transfer";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                    } | {
                        /** Format: uuid */
                        walletId: string;
                        /**
                         * Format: int64
                         * @description Integer number of minor units (cents), 1..9007199254740991
                         */
                        amount: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "payout";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                    } | {
                        /** Format: uuid */
                        fromWalletId: string;
                        /** Format: uuid */
                        toWalletId: string;
                        /**
                         * Format: int64
                         * @description Integer number of minor units (cents), 1..9007199254740991
                         */
                        amount: number;
                        /**
                         * Format: int32
                         * @description Seconds until the system voids the hold if it is still active, 1..2592000 (30 days); 7 days by default
                         * @default 604800
                         */
                        expiresInSeconds?: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "hold";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                    } | {
                        /**
                         * Format: int64
                         * @description Minor units to move, 1..the held amount; all of it by default
                         */
                        amount?: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "capture";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                        /**
                         * Format: uuid
                         * @description The hold operation's id
                         */
                        holdId: string;
                    } | {
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "void";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                        /**
                         * Format: uuid
                         * @description The hold operation's id
                         */
                        holdId: string;
                    } | {
                        /**
                         * Format: uuid
                         * @description The original: a succeeded transfer or capture whose destination wallet is the caller's
                         */
                        operationId: string;
                        /**
                         * Format: int64
                         * @description Minor units to send back, 1..the original's amount; all of it by default
                         */
                        amount?: number;
                        /**
                         * @description At most 50 keys of 1..40 characters, string values of at most 500 characters (Unicode code points), well-formed Unicode without U+0000
                         * @default {}
                         */
                        metadata?: {
                            [key: string]: string;
                        };
                        /** @constant */
                        type: "refund";
                        /** @description This item's Idempotency-Key: the header's rules and key space */
                        idempotencyKey: string;
                    })[];
                };
            };
        };
        responses: {
            /** @description One result per item, in order */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BulkResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listWebhookEndpoints: {
        parameters: {
            query?: {
                /** @description Page size, 1..100 (default 20) */
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of endpoints */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    createWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description http(s) URL whose host is, or resolves only to, public addresses */
                    url: string;
                    /**
                     * @description Event types to receive; both by default
                     * @default [
                     *       "operation.succeeded",
                     *       "operation.failed"
                     *     ]
                     */
                    events?: ("operation.succeeded" | "operation.failed")[];
                };
            };
        };
        responses: {
            /** @description The endpoint, with its signing secret */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedWebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    deleteWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Endpoint id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @description Page size, 1..100 (default 20) */
                limit?: number;
                cursor?: string;
            };
            header?: never;
            path: {
                /** @description Endpoint id (a UUID; anything else is a 404, and a path that is not percent-encoded UTF-8 a 400) */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of deliveries */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
}
