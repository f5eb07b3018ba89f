import { bigint, integer, pgTable, primaryKey, uuid } from "drizzle-orm/pg-core";

/**
 * The pending operations' queue, one row per operation from its acceptance (the accept insert
 * writes both rows in one statement) to its final status (the batch write deletes the row in the
 * statement that sets the status). The runner reads a partition's rows in `seq` order, locks
 * them and joins `operations` by id. Kept apart so that no index of `operations` changes when an
 * operation completes (its status update is HOT). A small, hot table: its dead rows are pruned
 * and its index pages reused as the runners delete from the left of each partition's range.
 */
export const pendingOperations = pgTable(
  "pending_operations",
  {
    /** The operation's partition (`operations.partition`). */
    partition: integer("partition").notNull(),
    /** The operation's acceptance sequence number (`operations.seq`). */
    seq: bigint("seq", { mode: "bigint" }).notNull(),
    /** The pending operation (taken from the row the accept inserted; the audit checks it). */
    operationId: uuid("operation_id").notNull(),
  },
  (t) => [primaryKey({ name: "pending_operations_pkey", columns: [t.partition, t.seq] })],
);
