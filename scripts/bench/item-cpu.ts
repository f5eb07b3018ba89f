import { parseArgs } from "node:util";
import { bulkItem } from "../../api/routes/bulk-route.ts";
import { validate } from "../../api/validate.ts";
import { requestHash } from "../../shared/canonical.ts";
import { newIdArray, uuidArray } from "../../shared/db/binary-array.ts";
import type { Operation } from "../../shared/db/schema/index.ts";
import { operationResource } from "../../shared/http/resources.ts";
import { bulkEnvelope } from "../../shared/http/schemas.ts";
import { parseStrictJson } from "../../shared/http/strict-json.ts";
import { newId } from "../../shared/ids.ts";

/**
 * `node scripts/bench/item-cpu.ts [--rounds=N]`: what a transfer of a bulk submission costs the
 * api's and the workers' own code, stage by stage, in ns per item, with no I/O (the real parser,
 * validation, hash, ids, encoders and resource; no HTTP, Postgres or Redis). For A/Bs of that code
 * between commits (run it in each checkout); the whole system's reading stays `npm run bench`'s.
 */

const { values } = parseArgs({ options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const ITEMS = 100;

const body = JSON.stringify({
  operations: Array.from({ length: ITEMS }, (_, i) => ({
    type: "transfer",
    idempotencyKey: crypto.randomUUID(),
    fromWalletId: crypto.randomUUID(),
    toWalletId: crypto.randomUUID(),
    amount: 100 + i,
    metadata: { orderId: `order-${i}` },
  })),
});
const parsed = parseStrictJson(body) as { operations: Record<string, unknown>[] };
const validateItems = () => parsed.operations.map((item, i) => bulkItem(item, `body.operations.${i}`));
const requests = validateItems().map((item) => {
  if ("refused" in item) throw item.refused;
  return item.request;
});
const ids = requests.map(() => newId());
const operations: Operation[] = parsed.operations.map((item, i) => ({
  id: ids[i] as string,
  clientId: ids[0] as string,
  type: "transfer",
  status: "pending",
  amount: BigInt(item.amount as number),
  currency: "USD",
  fromWalletId: item.fromWalletId as string,
  toWalletId: item.toWalletId as string,
  holdId: null,
  refundOf: null,
  refundedAmount: 0n,
  expiresAt: null,
  failureCode: null,
  failureMessage: null,
  metadata: item.metadata as Record<string, string>,
  partition: 0,
  seq: BigInt(i),
  idempotencyKey: "key",
  requestHash: "hash",
  createdAt: new Date(),
  completedAt: null,
}));

const stages: [string, () => unknown][] = [
  ["api: parse the body (strict JSON)", () => parseStrictJson(body)],
  ["api: validate the envelope", () => validate(bulkEnvelope, parsed, "body", false)],
  ["api: validate the item", validateItems],
  ["api: request hash", () => requests.map(requestHash)],
  ["api: operation id", () => requests.map(newId)],
  ["api: uuid columns of the insert (4)", () => [1, 2, 3, 4].map(() => uuidArray(ids))],
  [
    "api: the item's answer (resource, JSON)",
    () =>
      JSON.stringify({
        data: operations.map((o) => ({ status: 202, replayed: false, operation: operationResource(o) })),
      }),
  ],
  ["worker: entry ids (2)", () => newIdArray(2 * ITEMS)],
  ["worker: uuid columns of the batch (8)", () => [1, 2, 3, 4, 5, 6, 7, 8].map(() => uuidArray(ids))],
];

const best = new Map<string, number>();
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of stages) {
    for (let i = 0; i < 500; i++) run();
    const start = process.hrtime.bigint();
    const n = 2_000;
    for (let i = 0; i < n; i++) run();
    const ns = Number(process.hrtime.bigint() - start) / n / ITEMS;
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ns));
  }
}
console.log(`ns per item, best of ${rounds} rounds:`);
for (const [name, ns] of best) console.log(`${name.padEnd(42)} ${Math.round(ns).toString().padStart(6)}`);
