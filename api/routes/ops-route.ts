import { apiReference } from "@scalar/express-api-reference";
import type { Router } from "express";
import type { Registry } from "prom-client";
import { ApiError } from "../../shared/errors.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import type { Readiness } from "../services/readiness.ts";

export interface OpsDeps {
  /** Content type of the Prometheus text. */
  registry: Pick<Registry, "contentType">;
  /** `/metrics`: this process's registry, or the whole instance's with API_PROCESSES (cluster-metrics.ts). */
  metricsText: () => Promise<string>;
  readiness: () => Promise<Readiness>;
  /** True once the process is shutting down. */
  draining: () => boolean;
  /** The OpenAPI document, serialized (built once, on first use). */
  openApiJson: () => string;
}

/**
 * The renderer's browser bundle, pinned: the page loads it from the CDN in the reader's browser
 * (the document itself comes from this server). A self-contained copy would put
 * `@scalar/api-reference` and its Vue dependency tree into the production image for one page.
 */
const SCALAR_BUNDLE = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.72.1";

/** The operations endpoints of API.md: no authentication, not rate limited. */
export function opsRoute(deps: OpsDeps): Router {
  const router = mountedRouter();

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    const checks = await deps.readiness();
    const down = Object.entries(checks)
      .filter(([, state]) => state === "down")
      .map(([name]) => name);
    if (deps.draining()) {
      throw new ApiError("overloaded", "Not ready: this process is shutting down.", {
        retryAfter: 1,
        extensions: { checks },
      });
    }
    if (down.length > 0) {
      throw new ApiError("overloaded", `Not ready: ${down.join(" and ")} did not answer within 1 s.`, {
        retryAfter: 1,
        extensions: { checks },
      });
    }
    res.json({ status: "ok", checks });
  });

  router.get("/metrics", async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.metricsText());
  });

  router.get("/openapi.json", (_req, res) => {
    res.type("application/json").send(deps.openApiJson());
  });

  router.get(
    "/docs",
    apiReference({ url: "/openapi.json", cdn: SCALAR_BUNDLE, pageTitle: "Wallet billing API" }),
  );

  return router;
}
