import express, { type NextFunction, type Request, type Response } from "express";
import { ApiError } from "../../shared/errors.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const parseJson = express.json({ limit: "64kb", strict: true, type: "application/json" });

/** POST bodies: 415 unless `application/json`; 413 over 64 KiB; 400 for malformed JSON. */
export function jsonBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== "POST") {
    next();
    return;
  }
  if (!JSON_TYPE.test(req.get("content-type") ?? "")) {
    throw new ApiError("unsupported_media_type", "Send the body as application/json.");
  }
  parseJson(req, res, next);
}
