import { Router } from "express";
import type { Registry } from "prom-client";
import { ApiError } from "../../shared/errors.ts";
import { rememberMount } from "../middleware/request-context.ts";
import type { Readiness } from "../services/readiness.ts";

export interface OpsDeps {
  registry: Registry;
  readiness: () => Promise<Readiness>;
  /** True once the process is shutting down. */
  draining: () => boolean;
}

/** The operations endpoints of API.md: no authentication, not rate limited. */
export function opsRoute(deps: OpsDeps): Router {
  const router = Router();
  router.use(rememberMount);

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
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  return router;
}
