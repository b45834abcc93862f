-- Heads of this node's journal that the hub recorded at a reconciliation
-- and told the node about (hub protocol message head_seen). Like a
-- published head, each is a promise the journal reaches that entry with
-- that hash, so verify reports a journal that ends below one or differs at
-- one; message is the hub's signed envelope saying it saw the head.
CREATE TABLE hub_heads (
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    kid TEXT NOT NULL,
    -- the node's ed25519 signature of the head, base64url
    signature TEXT NOT NULL,
    reconciliation TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (seq, hash)
);
