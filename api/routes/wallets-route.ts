import type { Router } from "express";
import { z } from "zod";
import type { Database } from "../../shared/db/client.ts";
import { listWalletEntries, settledBalanceAt } from "../../shared/db/entry-repo.ts";
import { withTx } from "../../shared/db/transaction.ts";
import { ensureFundingAccounts, insertWallet, listClientWallets } from "../../shared/db/wallet-repo.ts";
import { ApiError } from "../../shared/errors.ts";
import { idSchema } from "../../shared/http/fields.ts";
import { type BalanceAtResource, entryResource, walletResource } from "../../shared/http/resources.ts";
import { balanceAtQuery, createWalletBody, pageQuery } from "../../shared/http/schemas.ts";
import { newId, partitionOf } from "../../shared/ids.ts";
import { toJsonAmount } from "../../shared/money.ts";
import { clientIdOf } from "../middleware/auth.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { mountedRouter } from "../middleware/request-context.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { ownWallet } from "../services/own-wallet.ts";
import { validate } from "../validate.ts";

interface WalletsDeps {
  db: Database;
  partitions: number;
}

export function walletsRoute(deps: WalletsDeps): Router {
  const router = mountedRouter();
  /** Currencies whose funding accounts this process has seen created. */
  const fundedCurrencies = new Set<string>();

  router.post("/", jsonBody, async (req, res) => {
    const clientId = clientIdOf(res);
    const body = validate(createWalletBody, req.body ?? {}, "body");
    const id = newId();
    const wallet = await withTx(deps.db, async (tx) => {
      if (!fundedCurrencies.has(body.currency))
        await ensureFundingAccounts(tx, body.currency, deps.partitions);
      return insertWallet(tx, {
        id,
        kind: "client",
        clientId,
        currency: body.currency,
        partition: partitionOf(id, deps.partitions),
        metadata: body.metadata,
      });
    });
    fundedCurrencies.add(body.currency);
    res.status(201).json(walletResource(wallet));
  });

  router.get("/", async (req, res) => {
    const clientId = clientIdOf(res);
    const q = validate(pageQuery, req.query, "query");
    const list = "wallets";
    const beforeId = decodeCursor(list, q.cursor, idSchema);
    const rows = await listClientWallets(deps.db, clientId, {
      limit: q.limit + 1,
      ...(beforeId ? { beforeId } : {}),
    });
    res.json(toPage(list, rows, q.limit, walletResource, (w) => w.id));
  });

  router.get("/:id", async (req, res) => {
    const wallet = await ownWallet(deps.db, clientIdOf(res), req.params.id);
    res.json(walletResource(wallet));
  });

  router.get("/:id/balance", async (req, res) => {
    const clientId = clientIdOf(res);
    const { at } = validate(balanceAtQuery, req.query, "query");
    const instant = new Date(at);
    const wallet = await ownWallet(deps.db, clientId, req.params.id);
    // Compared with Postgres's clock, which stamps the entries, not this host's.
    const settled = await settledBalanceAt(deps.db, wallet.id, instant);
    if (settled === "future") {
      throw new ApiError("validation_error", "The request query is invalid.", {
        errors: [{ path: "query.at", message: "must not be later than the server's clock" }],
      });
    }
    const { balance, version } = settled;
    const body: BalanceAtResource = {
      walletId: wallet.id,
      currency: wallet.currency,
      at: instant.toISOString(),
      balance: toJsonAmount(balance),
      version: Number(version),
    };
    res.json(body);
  });

  router.get("/:id/entries", async (req, res) => {
    const clientId = clientIdOf(res);
    const q = validate(pageQuery, req.query, "query");
    const wallet = await ownWallet(deps.db, clientId, req.params.id);
    // A wallet version: a positive Postgres bigint (a larger number would be a 500 in the query).
    const list = `wallets/${wallet.id}/entries`;
    const before = decodeCursor(
      list,
      q.cursor,
      z
        .string()
        .regex(/^[1-9]\d{0,18}$/)
        .refine((v) => BigInt(v) <= 9_223_372_036_854_775_807n),
    );
    const rows = await listWalletEntries(deps.db, wallet.id, {
      limit: q.limit + 1,
      ...(before ? { beforeVersion: BigInt(before) } : {}),
    });
    res.json(toPage(list, rows, q.limit, entryResource, (e) => e.walletVersion.toString()));
  });

  return router;
}
