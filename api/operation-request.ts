import {
  captureBody,
  holdBody,
  payoutBody,
  refundBody,
  topUpBody,
  transferBody,
  voidBody,
} from "../shared/http/schemas.ts";
import type { OperationRequest } from "./services/accept-operation.ts";
import { validate } from "./validate.ts";

export type OperationType = OperationRequest["type"];

/**
 * Validates the body of an operation of `type` (400 `validation_error` naming each field under
 * `where`); `holdId` is the hold of a capture or void (the path's `:id`, lower-cased).
 */
export function parseOperationRequest(
  type: OperationType,
  body: unknown,
  where: string,
  holdId = "",
): OperationRequest {
  switch (type) {
    case "top_up":
      return { type, ...validate(topUpBody, body, where) };
    case "transfer":
      return { type, ...validate(transferBody, body, where) };
    case "payout":
      return { type, ...validate(payoutBody, body, where) };
    case "hold":
      return { type, ...validate(holdBody, body, where) };
    case "capture":
      return { type, holdId, ...validate(captureBody, body, where) };
    case "void":
      return { type, holdId, ...validate(voidBody, body, where) };
    case "refund":
      return { type, ...validate(refundBody, body, where) };
  }
}
