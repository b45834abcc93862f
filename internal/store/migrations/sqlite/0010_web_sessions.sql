-- Signed-in dashboard sessions of this registry, so a restart does not
-- sign everyone out. A row holds only the SHA-256 of the session id (the
-- cookie's value), never the id: a copy of the database signs nobody in.
-- One session signed in to several registries of one server has a row in
-- each registry's database, as each registry keeps its own tokens.
-- expires_at is Unix milliseconds, so expiry compares as numbers.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
