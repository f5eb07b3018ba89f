import { createHash, randomFillSync } from "node:crypto";

/** Ids whose random bytes one `randomFillSync` call draws. */
const POOLED_IDS = 256;
const pool = new Uint8Array(16 * POOLED_IDS);
let pooled = POOLED_IDS;
/** The last id's millisecond and 32-bit counter: ids of one millisecond count up from a random start. */
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/**
 * Writes a time-ordered UUIDv7 (74 random bits) as its 16 bytes at `at` of `buf`: ids sort by
 * creation time, which list pages rely on. RFC 9562's layout with its monotonic counter (method
 * 1), as the `uuid` package lays them out: 48 bits of Unix milliseconds, the version, 12 + 6 + 8
 * bits of a counter that starts at random each millisecond, the variant, 2 + 40 random bits.
 * Random bytes are drawn 4 KiB at a time and no object is made per id: three ids per transfer
 * made the per-id draw, then the per-id objects, a visible share of the api's and the workers'
 * CPU (docs/performance.md).
 */
export function writeNewId(buf: Uint8Array, at: number): void {
  if (pooled === POOLED_IDS) {
    randomFillSync(pool);
    pooled = 0;
  }
  const r = 16 * pooled++;
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq =
      (((pool[r + 6] as number) & 0x7f) << 24) |
      ((pool[r + 7] as number) << 16) |
      ((pool[r + 8] as number) << 8) |
      (pool[r + 9] as number);
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  const { msecs, seq } = clock;
  buf[at] = (msecs / 0x10000000000) & 0xff;
  buf[at + 1] = (msecs / 0x100000000) & 0xff;
  buf[at + 2] = (msecs / 0x1000000) & 0xff;
  buf[at + 3] = (msecs / 0x10000) & 0xff;
  buf[at + 4] = (msecs / 0x100) & 0xff;
  buf[at + 5] = msecs & 0xff;
  buf[at + 6] = 0x70 | ((seq >>> 28) & 0x0f);
  buf[at + 7] = (seq >>> 20) & 0xff;
  buf[at + 8] = 0x80 | ((seq >>> 14) & 0x3f);
  buf[at + 9] = (seq >>> 6) & 0xff;
  buf[at + 10] = ((seq << 2) & 0xff) | ((pool[r + 10] as number) & 0x03);
  for (let i = 11; i < 16; i++) buf[at + i] = pool[r + i] as number;
}

/** Two lower-case hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const scratch = new Uint8Array(16);

/** A {@link writeNewId} id in its canonical text form. */
export function newId(): string {
  writeNewId(scratch, 0);
  const h = (i: number) => HEX[scratch[i] as number] as string;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
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
