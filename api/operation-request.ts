import type { z } from "zod";
import {
  type OperationRequest,
  type OperationType,
  operationType,
} from "../shared/operation-types/catalog.ts";
import { validate } from "./validate.ts";

/**
 * Validates the body of an operation of `type` with its catalog entry's schema (400
 * `validation_error` naming each field under `where`); `pathId` is the path's `:id` (a capture's
 * or void's hold), lower-cased, for a type that has one.
 */
export function parseOperationRequest(
  type: OperationType,
  body: unknown,
  where: string,
  pathId = "",
): OperationRequest {
  const def = operationType(type);
  const parsed = validate(def.body as z.ZodType<Record<string, unknown>>, body, where);
  return { type, ...(def.pathId ? { [def.pathId]: pathId } : {}), ...parsed } as OperationRequest;
}
