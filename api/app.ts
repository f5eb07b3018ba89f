import express from "express";
import type pg from "pg";
import type { Logger } from "pino";
import type { Database } from "../shared/db/client.ts";
import { findHolds } from "../shared/db/operation-repo.ts";
import type { Operation } from "../shared/db/schema/index.ts";
import type { ApiMetrics } from "../shared/metrics/api-metrics.ts";
import { OPERATION_CATALOG } from "../shared/operation-types/catalog.ts";
import type { AddressPolicy } from "../shared/webhooks/address-guard.ts";
import type { CompletionWaiters } from "./completion-waiters.ts";
import { authenticator, requireAdmin, requireClient } from "./middleware/auth.ts";
import { errorHandler, notFound } from "./middleware/error-handler.ts";
import { jsonBody, jsonBodyUpTo } from "./middleware/json-body.ts";
import { type RateLimitOptions, rateLimit } from "./middleware/rate-limit.ts";
import { mountedRouter, requestContext } from "./middleware/request-context.ts";
import { bulkHandler } from "./routes/bulk-route.ts";
import { clientsRoute } from "./routes/clients-route.ts";
import { acceptHandler, operationsRoute } from "./routes/operations-route.ts";
import { type OpsDeps, opsRoute } from "./routes/ops-route.ts";
import { walletsRoute } from "./routes/wallets-route.ts";
import { webhookEndpointsRoute } from "./routes/webhook-endpoints-route.ts";
import { AcceptBatcher } from "./services/accept-batcher.ts";
import { keyLookup, refusalLookup } from "./services/accept-operation.ts";
import { AddressFailures } from "./services/address-failures.ts";
import type { Backpressure } from "./services/backpressure.ts";
import { acceptLookups } from "./services/facts-by-id.ts";

export interface AppDeps {
  db: Database;
  /** The accept inserts' own pool, planned once per connection (start-api.ts). */
  acceptPool: pg.Pool;
  log: Logger;
  adminToken: string;
  /** AUTH_FAILURES_PER_ADDRESS (0: no bound). */
  authFailuresPerAddress: number;
  partitions: number;
  waiters: CompletionWaiters;
  /** Rings the doorbells of these partitions (one pipelined round trip for a group of accepts). */
  ring: (partitions: number[]) => Promise<void>;
  metrics: ApiMetrics;
  backpressure: Backpressure;
  rateLimit: Omit<RateLimitOptions, "metrics" | "log">;
  ops: Omit<OpsDeps, "registry">;
  /** The SSRF rule for webhook endpoint URLs (WEBHOOK_ALLOW_PRIVATE_NETWORKS and a resolver). */
  webhookAddressPolicy: AddressPolicy;
  /** Test seam: after an operation's insert, before its doorbell. */
  afterInsert?: (operation: Operation) => Promise<void>;
}

/** The window of AUTH_FAILURES_PER_ADDRESS, ms. */
const AUTH_FAILURE_WINDOW_MS = 10_000;

/** The first path segments of the clients' routes: every route under /v1 but the operator's /clients. */
const CLIENT_SEGMENTS = new Set([
  "wallets",
  "operations",
  "webhook-endpoints",
  ...OPERATION_CATALOG.map((t) => t.path.split("/")[1]),
]);

/**
 * Who may use a route, settled before its body is read: a key on a route it may not use is 403
 * whatever the body (unparseable, too large or of another type included). One layer that reads
 * the path's first segment, not one matched layer per route.
 */
function routeAccess(req: express.Request, res: express.Response, next: express.NextFunction): void {
  // Lower-cased: the routers match paths in any case (`/v1/CLIENTS` is `/v1/clients`).
  const segment = (req.path.split("/", 2)[1] ?? "").toLowerCase();
  if (segment === "clients") requireAdmin(req, res, next);
  else if (CLIENT_SEGMENTS.has(segment)) requireClient(req, res, next);
  else next();
}

/** The HTTP gateway: authenticate, validate, accept durably, ring the doorbell, read status. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  app.use(requestContext(deps.log, deps.metrics, deps.ops.draining));
  app.use(opsRoute({ ...deps.ops, registry: deps.metrics.registry }));

  const batcher = new AcceptBatcher({
    db: deps.acceptPool,
    ring: deps.ring,
    log: deps.log,
    ...(deps.afterInsert ? { afterInsert: deps.afterInsert } : {}),
  });
  const operationDeps = {
    db: deps.db,
    waiters: deps.waiters,
    batcher,
    findByKey: keyLookup(deps.db.$client),
    walletRefusal: refusalLookup(deps.db.$client),
    holds: (ids: string[]) => findHolds(deps.db, ids),
    lookups: acceptLookups(deps.db.$client),
    backpressure: deps.backpressure,
    metrics: deps.metrics,
    log: deps.log,
  };

  const v1 = mountedRouter();
  v1.use(
    authenticator({
      db: deps.db,
      adminToken: deps.adminToken,
      failures: new AddressFailures({
        limit: deps.authFailuresPerAddress || Number.POSITIVE_INFINITY,
        windowMs: AUTH_FAILURE_WINDOW_MS,
      }),
      metrics: deps.metrics,
    }),
  );
  v1.use(rateLimit({ ...deps.rateLimit, metrics: deps.metrics, log: deps.log }));
  v1.use(routeAccess);
  // Each POST route reads its own body, after the checks above (a refused key is 403 whatever the
  // body) and only once a route matched (an unknown path is 404 whatever its Content-Type); a bulk
  // submission's body may be 1 MiB, every other one 64 KiB.
  v1.post("/operations/bulk", jsonBodyUpTo("1mb"), bulkHandler(operationDeps));
  v1.use("/clients", clientsRoute({ db: deps.db }));
  v1.use("/wallets", walletsRoute({ db: deps.db, partitions: deps.partitions }));
  for (const t of OPERATION_CATALOG) v1.post(t.path, jsonBody, acceptHandler(operationDeps, t.type));
  v1.use("/operations", operationsRoute(operationDeps));
  v1.use(
    "/webhook-endpoints",
    webhookEndpointsRoute({ db: deps.db, addressPolicy: deps.webhookAddressPolicy }),
  );
  app.use("/v1", v1);

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
