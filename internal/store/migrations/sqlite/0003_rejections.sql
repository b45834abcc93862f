-- A request refused by a rule is recorded under its idempotency key, in the
-- same commit as the batch that decided it, so a replay with the same key
-- returns the same refusal instead of being decided again. A key is in the
-- journal or here, never both.
CREATE TABLE rejections (
    idem_key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    -- the journal head when the request was decided
    after_seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    -- the refusal as JSON: kind, code, check, field, detail
    body TEXT NOT NULL
);
