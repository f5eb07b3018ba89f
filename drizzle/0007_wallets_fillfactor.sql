-- Room on each new page of wallets for its rows' balance updates: a HOT update (no index entry)
-- needs the new version on the same page, and a page packed full moves the row's first update to
-- another page with an entry in each wallet index. Pages already written keep their packing until
-- the table is rewritten (VACUUM FULL; docs/design.md, next to "Upgrading").
ALTER TABLE "wallets" SET (fillfactor = 90);
