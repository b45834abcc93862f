CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE organisations (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	country    TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	org_id     INTEGER NOT NULL REFERENCES organisations(id),
	type       TEXT NOT NULL,
	status     TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE issuances (
	id           INTEGER PRIMARY KEY,
	standard     TEXT NOT NULL,
	unit_type    TEXT NOT NULL,
	project      TEXT NOT NULL,
	project_name TEXT NOT NULL,
	methodology  TEXT NOT NULL,
	host_country TEXT NOT NULL,
	vintage      INTEGER NOT NULL,
	quantity     INTEGER NOT NULL CHECK (quantity > 0),
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	seq          INTEGER NOT NULL,
	created_at   TEXT NOT NULL
);
CREATE TABLE blocks (
	issuance_id  INTEGER NOT NULL REFERENCES issuances(id),
	start_serial INTEGER NOT NULL,
	end_serial   INTEGER NOT NULL,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	state        TEXT NOT NULL,
	pending      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (issuance_id, start_serial),
	CHECK (end_serial >= start_serial AND start_serial >= 1)
) WITHOUT ROWID;
CREATE INDEX blocks_account ON blocks(account_id, state);
CREATE TABLE journal (
	seq          INTEGER PRIMARY KEY,
	at           TEXT NOT NULL,
	kind         TEXT NOT NULL,
	actor        TEXT NOT NULL,
	idem_key     TEXT UNIQUE,
	request_hash TEXT NOT NULL,
	body         TEXT NOT NULL,
	prev_hash    TEXT NOT NULL,
	hash         TEXT NOT NULL
);
CREATE INDEX journal_kind ON journal(kind, seq);
CREATE TABLE movements (
	seq          INTEGER NOT NULL REFERENCES journal(seq),
	issuance_id  INTEGER NOT NULL,
	start_serial INTEGER NOT NULL,
	end_serial   INTEGER NOT NULL,
	from_account INTEGER NOT NULL,
	to_account   INTEGER NOT NULL,
	from_state   TEXT NOT NULL,
	to_state     TEXT NOT NULL
);
CREATE INDEX movements_serial ON movements(issuance_id, start_serial);
CREATE INDEX movements_seq ON movements(seq);
CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	org_id     INTEGER NOT NULL REFERENCES organisations(id),
	role       TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
