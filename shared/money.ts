/** Money is an integer number of minor units. In JSON it is a number bounded by 2^53-1. */
export const MAX_AMOUNT = 9_007_199_254_740_991n; // 2^53 - 1, Number.MAX_SAFE_INTEGER

/** A client wallet balance as a JSON number; throws if it is outside 0..2^53-1 (never for client wallets). */
export function toJsonAmount(value: bigint): number {
  if (value < -MAX_AMOUNT || value > MAX_AMOUNT) {
    throw new RangeError(`amount ${value} does not fit a JSON integer`);
  }
  return Number(value);
}
