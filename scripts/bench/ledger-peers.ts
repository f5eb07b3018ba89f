import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PgbenchRun, pgbenchRun, withPg } from "./pg-reference.ts";

/**
 * Issue 22's peers, run by `npm run bench` beside pgbench's TPC-B on the same server: the plain
 * Postgres ledger a user could write instead of this product, as the brief measured it. Accounts
 * whose balance may not go negative (10,000 of them, as `bulk`'s wallets), a transfers table
 * (a `bigserial` key), and one PL/pgSQL function per transfer: two `UPDATE`s in account order,
 * the debit checking the funds, and one `INSERT`. pgbench runs it two ways:
 *
 * - `single`: one transfer per transaction from 16 clients, the peer of the single-request
 *   scenarios (the brief: about 3× TPC-B);
 * - `batched`: {@link BATCH} transfers per call, one transaction, from one connection, the peer of
 *   the bulk scenarios (the brief: 10-12× TPC-B with 100-1,000 per call).
 *
 * They keep no idempotency key, no durable acceptance apart from the money, no queue, no entries
 * per account and no HTTP: the distance to them is what this product's guarantees and interface
 * cost (docs/performance.md, "The ledger peers in every run"). The batched peer, like `bulk`,
 * spends its CPU per row written, where TPC-B spends most of its own per round trip.
 */

/** Accounts of the peers' ledger. */
export const PEER_ACCOUNTS = 10_000;
/** Transfers per call of the batched peer. */
export const BATCH = 500;
/** Each account's opening balance, minor units: enough that no transfer of a run is refused. */
const OPENING = 1_000_000_000;

const SCHEMA = `
  CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
  INSERT INTO accounts SELECT g, ${OPENING} FROM generate_series(1, ${PEER_ACCOUNTS}) AS g;
  CREATE TABLE transfers (id bigserial PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL,
                          amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  -- One transfer: the two accounts updated in id order (no deadlock between clients), the debit
  -- only if the funds are there; false when they are not (the credit, if made, taken back).
  CREATE FUNCTION transfer(a int, b int, amt bigint) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN
    IF a < b THEN
      UPDATE accounts SET balance = balance - amt WHERE id = a AND balance >= amt;
      IF NOT FOUND THEN RETURN false; END IF;
      UPDATE accounts SET balance = balance + amt WHERE id = b;
    ELSE
      UPDATE accounts SET balance = balance + amt WHERE id = b;
      UPDATE accounts SET balance = balance - amt WHERE id = a AND balance >= amt;
      IF NOT FOUND THEN
        UPDATE accounts SET balance = balance - amt WHERE id = b;
        RETURN false;
      END IF;
    END IF;
    INSERT INTO transfers (from_id, to_id, amount) VALUES (a, b, amt);
    RETURN true;
  END $$;
  -- n transfers between distinct random accounts in one call (one transaction).
  CREATE FUNCTION transfer_batch(n int) RETURNS int LANGUAGE plpgsql AS $$
  DECLARE a int; b int; done int := 0;
  BEGIN
    FOR i IN 1..n LOOP
      a := 1 + floor(random() * ${PEER_ACCOUNTS})::int;
      b := 1 + floor(random() * ${PEER_ACCOUNTS - 1})::int;
      IF b >= a THEN b := b + 1; END IF;
      IF transfer(a, b, 1 + floor(random() * 100)::bigint) THEN done := done + 1; END IF;
    END LOOP;
    RETURN done;
  END $$;`;

/** The two peers' pgbench scripts and clients. */
const PEERS = {
  single: {
    clients: 16,
    threads: 2,
    transfersPerTransaction: 1,
    script: [
      `\\set a random(1, ${PEER_ACCOUNTS})`,
      `\\set b random(1, ${PEER_ACCOUNTS - 1})`,
      `\\set amount random(1, 100)`,
      "SELECT transfer(:a, CASE WHEN :b >= :a THEN :b + 1 ELSE :b END, :amount);",
    ].join("\n"),
  },
  batched: {
    clients: 1,
    threads: 1,
    transfersPerTransaction: BATCH,
    script: `SELECT transfer_batch(${BATCH});`,
  },
} as const;

export type PeerName = keyof typeof PEERS;
export const PEER_NAMES = Object.keys(PEERS) as PeerName[];

export interface PeerRun {
  /** Transfers a second. */
  transfersPerSec: number;
  /** The machine's busy CPU per transfer, µs (as pgbench's per transaction). */
  machineUsPerTransfer: number;
  pgbench: PgbenchRun;
}

/** Creates `database` with the peers' accounts, transfers and functions. */
export async function peersInit(serverUrl: string, database: string): Promise<void> {
  await withPg(serverUrl, "postgres", (c) => c.query(`CREATE DATABASE ${database}`));
  await withPg(serverUrl, database, async (c) => {
    await c.query(SCHEMA);
    await c.query("VACUUM ANALYZE");
  });
}

/** Runs one peer for `seconds` with pgbench, on the server's own durability settings. */
export async function peerRun(
  serverUrl: string,
  database: string,
  peer: PeerName,
  seconds: number,
): Promise<PeerRun> {
  const p = PEERS[peer];
  const dir = mkdtempSync(join(tmpdir(), "billing-peer-"));
  try {
    const script = join(dir, `${peer}.sql`);
    writeFileSync(script, `${p.script}\n`);
    const r = await pgbenchRun(serverUrl, database, {
      clients: p.clients,
      threads: p.threads,
      seconds,
      script,
    });
    const n = p.transfersPerTransaction;
    return {
      transfersPerSec: Math.round(r.tps * n),
      machineUsPerTransfer: Math.round(r.machineUsPerTransaction / n),
      pgbench: r,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The peers' books: what the accounts hold against what they opened with, and the transfers made. */
export async function peerBooks(
  serverUrl: string,
  database: string,
): Promise<{ total: bigint; opening: bigint; negative: number; transfers: number }> {
  return withPg(serverUrl, database, async (c) => {
    const r = await c.query<{ total: string; negative: number; transfers: number }>(
      `SELECT (SELECT sum(balance) FROM accounts)::text AS total,
              (SELECT count(*) FROM accounts WHERE balance < 0)::int AS negative,
              (SELECT count(*) FROM transfers)::int AS transfers`,
    );
    const row = r.rows[0] as { total: string; negative: number; transfers: number };
    return {
      total: BigInt(row.total),
      opening: BigInt(OPENING) * BigInt(PEER_ACCOUNTS),
      negative: row.negative,
      transfers: row.transfers,
    };
  });
}
