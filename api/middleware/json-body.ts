import express, { type NextFunction, type Request, type Response } from "express";
import { ApiError } from "../../shared/errors.ts";
import { DuplicateNameError, JsonSyntaxError, parseStrictJson } from "../../shared/http/strict-json.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Every POST body of the API but a bulk submission's: 64 KiB. Each POST route names its parser. */
export const jsonBody = jsonBodyUpTo("64kb");

/**
 * POST bodies: 415 unless `application/json` in UTF-8; 413 over `limit` (body-parser's notation:
 * "64kb", "1mb"); 400 for a body that is not UTF-8, not JSON, or not I-JSON (a repeated member
 * name), parsed by {@link parseStrictJson} so that numbers keep their literal. An empty body is `{}`.
 */
export function jsonBodyUpTo(limit: string) {
  const readBody = express.raw({ limit, type: () => true });
  return (req: Request, res: Response, next: NextFunction): void => readJson(readBody, req, res, next);
}

function readJson(
  readBody: ReturnType<typeof express.raw>,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  const type = req.get("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new ApiError("unsupported_media_type", "Send the body as application/json.");
  }
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    throw new ApiError("unsupported_media_type", "The body's encoding is not supported; send UTF-8 JSON.");
  }
  readBody(req, res, (err?: unknown) => {
    if (err) {
      next(err);
      return;
    }
    try {
      req.body = parseBody(req.body);
      next();
    } catch (e) {
      next(e);
    }
  });
}

function parseBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError("validation_error", "The body is not valid UTF-8.");
  }
  try {
    return parseStrictJson(text);
  } catch (err) {
    if (err instanceof DuplicateNameError) {
      throw new ApiError("validation_error", "The body holds an object with two members of the same name.", {
        errors: [{ path: ["body", ...err.path].join("."), message: err.message }],
      });
    }
    if (err instanceof JsonSyntaxError) {
      throw new ApiError("validation_error", `The body is not valid JSON: ${err.message}.`);
    }
    throw err;
  }
}
