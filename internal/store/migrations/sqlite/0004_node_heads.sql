-- The node's signing key, created on first open (slot 1 is the key in
-- use; a rotation would add a slot), and every journal head the node has
-- published signed with it. A published head is a promise that the journal
-- reaches that entry with that hash, so verify reports a journal that ends
-- below one (cut short) or differs at one (rewritten).
CREATE TABLE node_keys (
    slot INTEGER PRIMARY KEY,
    kid TEXT NOT NULL UNIQUE,
    -- the ed25519 private key's 32-byte seed (RFC 8032 §5.1.5), base64url
    seed TEXT NOT NULL,
    -- the public key, base64url
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE published_heads (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    kid TEXT NOT NULL,
    -- ed25519 over ledger.SignedHead.SigningBytes, base64url
    signature TEXT NOT NULL
);
