/**
 * An instant as Postgres keeps it: microseconds since the Unix epoch. The batch compares a
 * capture's or void's acceptance with its hold's expiry at this precision: a capture accepted in
 * the same millisecond as, but before, the expiry is on time, which a JavaScript Date
 * (milliseconds) would have put at the expiry.
 */
export type Micros = bigint;

/** A `timestamptz` column read as {@link Micros}, in text (exact: `extract` gives a numeric). */
export const micros = (column: string): string => `(extract(epoch FROM ${column}) * 1000000)::bigint::text`;
