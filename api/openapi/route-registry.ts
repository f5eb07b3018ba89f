import { bulkRouteDocs } from "./bulk-route-docs.ts";
import { moneyRouteDocs } from "./money-route-docs.ts";
import { operationRouteDocs } from "./operation-route-docs.ts";
import { opsRouteDocs } from "./ops-route-docs.ts";
import type { RouteDocs } from "./route-docs.ts";
import { webhookRouteDocs } from "./webhook-route-docs.ts";

/**
 * Every route the api serves, with its OpenAPI operation. Adding a route to Express means adding
 * its entry here (a new family: a `*-route-docs.ts` file spread below); a test fails for any
 * Express route missing from this registry, and for any entry Express does not serve.
 */
export const routeRegistry: RouteDocs = {
  ...opsRouteDocs,
  ...moneyRouteDocs,
  ...operationRouteDocs,
  ...bulkRouteDocs,
  ...webhookRouteDocs,
};
