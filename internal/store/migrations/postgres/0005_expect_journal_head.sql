-- expect_journal_head fails unless the journal's last entry is (want_seq,
-- want_hash), or the journal is empty and want_seq is 0. A writer sends it
-- after taking the node's write lock and before its writes, in the same
-- implicit transaction (store/postgres.go, commitOn), so a writer whose view
-- of the journal is stale cannot append to it: the whole pipeline is rolled
-- back and the error names the head it found. SQLSTATE CJ001 is this
-- project's own (class CJ is not used by PostgreSQL, Appendix A "PostgreSQL
-- Error Codes"); the driver reads it as store.ErrStale.
CREATE FUNCTION expect_journal_head(want_seq BIGINT, want_hash TEXT) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    got_seq BIGINT;
    got_hash TEXT;
BEGIN
    SELECT seq, hash INTO got_seq, got_hash FROM journal ORDER BY seq DESC LIMIT 1;
    IF COALESCE(got_seq, 0) IS DISTINCT FROM want_seq OR got_seq IS NOT NULL AND got_hash IS DISTINCT FROM want_hash THEN
        RAISE EXCEPTION 'journal head is % %, not % %', COALESCE(got_seq, 0), COALESCE(got_hash, ''), want_seq, want_hash
            USING ERRCODE = 'CJ001';
    END IF;
    RETURN 1;
END
$$;
