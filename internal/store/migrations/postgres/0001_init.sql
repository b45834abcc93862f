CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE organisations (
	id         BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	country    TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE accounts (
	id         BIGINT PRIMARY KEY,
	org_id     BIGINT NOT NULL REFERENCES organisations(id),
	type       TEXT NOT NULL,
	status     TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE issuances (
	id           BIGINT PRIMARY KEY,
	standard     TEXT NOT NULL,
	unit_type    TEXT NOT NULL,
	project      TEXT NOT NULL,
	project_name TEXT NOT NULL,
	methodology  TEXT NOT NULL,
	host_country TEXT NOT NULL,
	vintage      BIGINT NOT NULL,
	quantity     BIGINT NOT NULL CHECK (quantity > 0),
	account_id   BIGINT NOT NULL REFERENCES accounts(id),
	seq          BIGINT NOT NULL,
	created_at   TEXT NOT NULL
);
CREATE TABLE blocks (
	issuance_id  BIGINT NOT NULL REFERENCES issuances(id),
	start_serial BIGINT NOT NULL,
	end_serial   BIGINT NOT NULL,
	account_id   BIGINT NOT NULL REFERENCES accounts(id),
	state        TEXT NOT NULL,
	pending      BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (issuance_id, start_serial),
	CHECK (end_serial >= start_serial AND start_serial >= 1)
);
CREATE INDEX blocks_account ON blocks(account_id, state);
CREATE TABLE journal (
	seq          BIGINT PRIMARY KEY,
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
	seq          BIGINT NOT NULL REFERENCES journal(seq),
	issuance_id  BIGINT NOT NULL,
	start_serial BIGINT NOT NULL,
	end_serial   BIGINT NOT NULL,
	from_account BIGINT NOT NULL,
	to_account   BIGINT NOT NULL,
	from_state   TEXT NOT NULL,
	to_state     TEXT NOT NULL
);
CREATE INDEX movements_serial ON movements(issuance_id, start_serial);
CREATE INDEX movements_seq ON movements(seq);
CREATE TABLE tokens (
	hash       TEXT PRIMARY KEY,
	org_id     BIGINT NOT NULL REFERENCES organisations(id),
	role       TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
