import { createHash } from "node:crypto";
import { v7 } from "uuid";

/** A time-ordered UUIDv7 (74 random bits): ids sort by creation time, which list pages rely on. */
export const newId = (): string => v7();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

/**
 * The partition of a wallet, computed once at creation and stored. It hashes the id rather than
 * reading its bits, so a v7 id's timestamp does not skew the spread.
 */
export function partitionOf(walletId: string, partitions: number): number {
  return createHash("sha256").update(walletId).digest().readUInt32BE(0) % partitions;
}
