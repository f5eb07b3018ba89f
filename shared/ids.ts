import { createHash, randomFillSync } from "node:crypto";
import { v7 } from "uuid";

/** Ids whose random bytes one `randomFillSync` call draws (the library draws 16 bytes per id). */
const POOLED_IDS = 256;
const pool = new Uint8Array(16 * POOLED_IDS);
let pooled = POOLED_IDS;
/** The last id's millisecond and 32-bit counter: ids of one millisecond count up from a random start. */
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/**
 * A time-ordered UUIDv7 (74 random bits): ids sort by creation time, which list pages rely on.
 * The `uuid` package's layout and monotonic counter (RFC 9562 method 1), with random bytes drawn
 * 4 KiB at a time: three ids per transfer made the per-id draw a visible share of the api's and
 * the workers' CPU.
 */
export function newId(): string {
  if (pooled === POOLED_IDS) {
    randomFillSync(pool);
    pooled = 0;
  }
  const random = pool.subarray(pooled * 16, ++pooled * 16);
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq =
      (((random[6] as number) & 0x7f) << 24) |
      ((random[7] as number) << 16) |
      ((random[8] as number) << 8) |
      (random[9] as number);
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return v7({ msecs: clock.msecs, seq: clock.seq, random });
}

/**
 * A v7 uuid in SQL for the time the SQL expression `at` gives: a random v4 whose first 48 bits
 * are replaced by that time in Unix ms and whose version nibble becomes 7 (bits 52 and 53 set).
 */
export const uuidV7AtSql = (at: string): string =>
  "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing " +
  `substring(int8send(floor(extract(epoch from ${at}) * 1000)::bigint) from 3) ` +
  "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid";

/**
 * {@link newId} in SQL, for rows made set-based (Postgres 15 has no uuidv7()), so these ids sort
 * by creation time like every other.
 */
export const UUID_V7_SQL = uuidV7AtSql("clock_timestamp()");

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

/**
 * The partition of a wallet, computed once at creation and stored. It hashes the id rather than
 * reading its bits, so a v7 id's timestamp does not skew the spread.
 */
export function partitionOf(walletId: string, partitions: number): number {
  return createHash("sha256").update(walletId).digest().readUInt32BE(0) % partitions;
}
