-- (branch perfpg; SQLite's 0013 is another change.) A transfer's commit
-- writes blocks by key (store/ledger.go, planBlocks): updates and deletes
-- of rows the writer knows are stored, inserts of keys it knows are not.
--
-- expect_rows fails the statement unless every count in got equals the
-- one in want: a write that found fewer rows at its keys than it had keys
-- (the writer's view of the blocks is not the database's) is refused, and
-- nothing of the batch is written. The driver calls it only when a count
-- differs (postgres.go, combine). SQLSTATE CJ002 is this project's own,
-- like expect_journal_head's CJ001; the driver reads it as store.ErrStale.
CREATE FUNCTION expect_rows(what TEXT[], got BIGINT[], want BIGINT[]) RETURNS INTEGER
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    FOR i IN 1 .. cardinality(what) LOOP
        IF got[i] IS DISTINCT FROM want[i] THEN
            RAISE EXCEPTION '% of % % found at their keys: the writer''s view of the blocks is not the database''s', got[i], want[i], what[i]
                USING ERRCODE = 'CJ002';
        END IF;
    END LOOP;
    RETURN 1;
END
$$;

-- Two foreign keys a transfer paid for on every commit: a block changing
-- hands is checked against accounts, and every movement against the
-- journal (each check one index search and a row lock, about a sixth of
-- the server's CPU per transfer). What guards the two properties instead:
-- - a block's account exists: the applier moves units only into an open
--   account it holds (registry/apply.go, account), and `corridor verify`
--   compares every block with the journal's replay, which has no block in
--   an account it never opened (registry TestVerifyFindsOrphans);
-- - a movement's journal entry exists: a movement is written only in the
--   batch of its entry, which the store checks before it writes anything
--   (store/ledger.go, checkMovements; conformance case OrphanMovement),
--   and `corridor verify` reports a movement of no entry
--   (DB.FirstOrphanMovement, TestVerifyFindsOrphans).
-- A block's issuance keeps its foreign key: it is checked only when a row
-- is inserted or changes issuance, which a transfer rarely does.
ALTER TABLE blocks DROP CONSTRAINT IF EXISTS blocks_account_id_fkey;
ALTER TABLE movements DROP CONSTRAINT IF EXISTS movements_seq_fkey;
