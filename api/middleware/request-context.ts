import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";

const CALLER_ID = /^[\x21-\x7e]{1,200}$/;

/** Echoes the caller's X-Request-Id when it is sane, else makes one; logs one line per request. */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get("x-request-id");
    const requestId = given && CALLER_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    const started = performance.now();
    res.on("finish", () => {
      log.info(
        {
          requestId,
          clientId: res.locals.principal?.kind === "client" ? res.locals.principal.clientId : undefined,
          method: req.method,
          route: req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched",
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      );
    });
    next();
  };
}
