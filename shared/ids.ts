import { createHash } from "node:crypto";
import { v7 } from "uuid";

/** A time-ordered UUIDv7 (74 random bits): ids sort by creation time, which list pages rely on. */
export const newId = (): string => v7();

/**
 * {@link newId} in SQL, for rows made set-based (Postgres 15 has no uuidv7()): a random v4 whose
 * first 48 bits are replaced by the Unix time in ms and whose version nibble becomes 7 (bits 52
 * and 53 set), so these ids sort by creation time like every other.
 */
export const UUID_V7_SQL =
  "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing " +
  "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) " +
  "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

/**
 * The partition of a wallet, computed once at creation and stored. It hashes the id rather than
 * reading its bits, so a v7 id's timestamp does not skew the spread.
 */
export function partitionOf(walletId: string, partitions: number): number {
  return createHash("sha256").update(walletId).digest().readUInt32BE(0) % partitions;
}
