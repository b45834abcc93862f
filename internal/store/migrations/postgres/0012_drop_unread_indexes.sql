-- (branch perfpg; after perfsql's 0011, which drops the same two on
-- PostgreSQL: IF EXISTS makes either order a no-op the second time.) Two indexes that no PostgreSQL query reads, maintained
-- by every transfer's commit: blocks_account (blocks are read whole, in
-- key order, at start-up; balances and holdings are served from memory)
-- and movements_seq (movements are read by issuance and serial, through
-- movements_span, and joined to the journal through the journal's key).
-- PostgreSQL's foreign keys search the referencing table only when a
-- referenced row is deleted or its key changes ("Foreign Keys", §5.4.5),
-- which never happens to an account or a journal entry (the journal is
-- append-only; an account update keeps its id). SQLite drops the same
-- two in its 0013 (its parent inserts search the children only behind
-- OP_FkIfZero, TestSQLiteParentInsertsSkipChildren). Dropping them took about 5 % of
-- PostgreSQL's CPU per transfer; TestWrittenTablesIndexes keeps the list.
DROP INDEX IF EXISTS blocks_account;
DROP INDEX IF EXISTS movements_seq;
