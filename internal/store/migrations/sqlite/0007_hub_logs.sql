-- The hub's append-only logs (store.Log): records numbered 1, 2, 3…
-- without gaps, each a JSON body. A hub built before this migration
-- created the same tables itself at start-up (CREATE TABLE IF NOT EXISTS,
-- which raced on PostgreSQL's catalogue when two sessions ran it at once);
-- IF NOT EXISTS here keeps those databases, and the migration runs once,
-- under the node's write lock.
CREATE TABLE IF NOT EXISTS hub_events (
    seq BIGINT PRIMARY KEY,
    body TEXT NOT NULL
);
-- One row per reconciliation of one registry (the log's key).
CREATE TABLE IF NOT EXISTS hub_reconciliations (
    seq BIGINT PRIMARY KEY,
    registry TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hub_reconciliations_registry ON hub_reconciliations (registry, seq);
CREATE TABLE IF NOT EXISTS hub_article6 (
    seq BIGINT PRIMARY KEY,
    body TEXT NOT NULL
);
