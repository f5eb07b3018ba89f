-- Idempotency keys are compared byte by byte (collation "C"). They are only ever compared for
-- equality (the unique index, the replay look-ups), where every deterministic collation agrees
-- with bytes; but a B-tree of a column in a linguistic collation orders its keys by that
-- collation, so each comparison of an insertion's descent copied both keys and called the C
-- library's strcoll (or ICU), where "C" compares them with memcmp. The accept insert already
-- sorted its rows in this order (deadlock-free insertion order), now the index's own.
-- Rebuilds the unique index under an ACCESS EXCLUSIVE lock; the rows are not rewritten.
ALTER TABLE "operations" ALTER COLUMN "idempotency_key" TYPE text COLLATE "C";
