-- Two indexes that no SQLite query reads, maintained by every transfer's
-- commit (PostgreSQL dropped the same two in its 0012): blocks_account
-- (blocks are read whole, in key order, at start-up; balances and holdings
-- are served from memory) and movements_seq (movements are read by
-- issuance and serial, through movements_span, and joined to the journal
-- through the journal's key). SQLite's foreign keys search a child table
-- only when a parent row is deleted or its key is updated
-- (https://www.sqlite.org/foreignkeys.html, section 3, "Required and
-- Suggested Database Indexes"), which never happens to an account or a
-- journal entry (the journal is append-only; an account upsert keeps its
-- id); an INSERT into a parent searches its children only while the
-- statement has an unresolved violation, which it aborts on
-- (TestSQLiteParentInsertsSkipChildren). Each transfer's commit updated
-- blocks_account three times (its sender's block deleted and re-inserted,
-- its receiver's block grown) and movements_seq once;
-- TestWrittenTablesIndexes keeps the list.
DROP INDEX IF EXISTS blocks_account;
DROP INDEX IF EXISTS movements_seq;
