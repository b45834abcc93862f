package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// pgDriver is PostgreSQL; a node's tables live in one schema, so several
// nodes can share a database.
type pgDriver struct {
	schema string // "" = the connection's default search_path
}

var _ driver = (*pgDriver)(nil)

func (*pgDriver) dialect() Dialect { return Postgres }

// connConfig parses the URL and points every connection at the schema.
// It is set per connection (not by editing the URL), so key=value
// connection strings work as well as URLs.
func (p *pgDriver) connConfig(url string) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres URL: %w", err)
	}
	if p.schema != "" {
		if !validIdent(p.schema) {
			return nil, fmt.Errorf("store: schema name %q must be lower-case letters, digits and _", p.schema)
		}
		cc.RuntimeParams["search_path"] = p.schema
	}
	plainOnLoopback(url, cc)
	return cc, nil
}

// plainOnLoopback drops TLS from a connection to this machine's loopback
// address that leaves sslmode to its default, prefer: TLS "if the server
// supports it", with no check of the server's certificate (PostgreSQL
// documentation, "SSL Support", Table 34.1 "SSL Mode Descriptions": prefer
// protects against no attacker that loopback traffic has), so it only
// costs, on both ends: encrypting every statement and result was a tenth
// of the server's CPU per transfer, and as much of ours. An sslmode in the
// URL or PGSSLMODE is obeyed as given, and a URL naming several hosts keeps
// prefer's fallbacks.
func plainOnLoopback(url string, cc *pgx.ConnConfig) {
	if cc.TLSConfig == nil || strings.Contains(url, "sslmode") || os.Getenv("PGSSLMODE") != "" || !loopback(cc.Host) {
		return
	}
	for _, f := range cc.Fallbacks {
		if f.Host != cc.Host || f.Port != cc.Port {
			return
		}
	}
	cc.TLSConfig, cc.Fallbacks = nil, nil
}

// loopback says whether host is this machine's loopback interface.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *pgDriver) open(ctx context.Context, cfg Config) (*sql.DB, error) {
	cc, err := p.connConfig(cfg.URL)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16) // the default 2 made most queries under load open a new (TLS) connection
	if p.schema != "" {
		if err := createSchema(ctx, db, p.schema); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// openReadOnly sets default_transaction_read_only, so the server refuses
// every write (PostgreSQL documentation, "Client Connection Defaults"), and
// creates no schema.
func (p *pgDriver) openReadOnly(ctx context.Context, cfg Config) (*sql.DB, error) {
	cc, err := p.connConfig(cfg.URL)
	if err != nil {
		return nil, err
	}
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(4)
	if p.schema != "" {
		var found bool
		err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, p.schema).Scan(&found)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		if !found {
			db.Close()
			return nil, fmt.Errorf("%w: PostgreSQL has no schema %s", ErrNotFound, p.schema)
		}
	}
	return db, nil
}

// createSchema creates the node's schema under the node's write lock (the
// same key lock takes): CREATE SCHEMA IF NOT EXISTS run by two sessions at
// once fails in one of them with a duplicate key on pg_namespace.
func createSchema(ctx context.Context, db *sql.DB, schema string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, schema); err != nil {
		return fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		return fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	return nil
}

func (*pgDriver) rebind(query string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// lock takes a transaction-scoped advisory lock on the node's schema. It
// must be its own statement: in READ COMMITTED a statement reads the
// snapshot taken when it starts, so a head read in the same statement could
// miss the commit the lock waited for.
func (*pgDriver) lock(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(current_schema()))`); err != nil {
		return fmt.Errorf("store: take the write lock: %w", err)
	}
	return nil
}

// maxParams bounds the parameters of one combined statement (the protocol
// allows 65,535).
const maxParams = 60000

// exec sends the writes as one statement (combine), since each
// statement is a network round trip.
func (p *pgDriver) exec(ctx context.Context, _ *DB, tx *sql.Tx, writes []tableWrite) error {
	for _, s := range p.combine(pgStatements(writes)) {
		args := make([]any, len(s.args))
		for i, a := range s.args {
			args[i] = a.(pgColumn).value()
		}
		if _, err := tx.ExecContext(ctx, s.sql, args...); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == pgRowsMissing {
				return fmt.Errorf("%w: %s", ErrStale, pgErr.Message)
			}
			return fmt.Errorf("store: write: %w", err)
		}
	}
	return nil
}

// pgStmt is one statement of a commit.
type pgStmt struct {
	sql  string
	args []any
	// exact names the rows when the statement must find a row at each of
	// its keys; exactType is then its first parameter's element type.
	exact, exactType string
}

// pgStatements turns each write into one statement whose parameters are
// its columns, each one array of the column's type (tableSpec.postgresSQL),
// sent in binary: the server copies the elements instead of parsing an
// array literal, and no value is quoted.
func pgStatements(writes []tableWrite) []pgStmt {
	out := make([]pgStmt, len(writes))
	for i, w := range writes {
		s := pgStmt{sql: w.spec.postgres, args: make([]any, len(w.spec.cols)), exact: w.spec.exact, exactType: w.spec.types[0]}
		for c := range w.spec.types {
			s.args[c] = pgColumn{w: w, c: c}
		}
		out[i] = s
	}
	return out
}

// pgColumn is column c of a write's rows, a parameter sent as one array.
type pgColumn struct {
	w tableWrite
	c int
}

// The OIDs of the array types and of their elements (PostgreSQL's
// pg_type.dat): the server checks that a binary array's element type is
// the parameter's.
const (
	pgInt8OID      = 20
	pgTextOID      = 25
	pgInt8ArrayOID = 1016
	pgTextArrayOID = 1009
)

// value is the column as pgx encodes it through database/sql (WriteTx).
func (col pgColumn) value() any {
	rows, width := col.w.args, len(col.w.spec.cols)
	switch typ := col.w.spec.types[col.c]; typ {
	case "bigint":
		out := make([]int64, 0, len(rows)/width)
		for i := col.c; i < len(rows); i += width {
			out = append(out, pgInt(rows[i]))
		}
		return out
	case "text":
		out := make([]pgtype.Text, 0, len(rows)/width)
		for i := col.c; i < len(rows); i += width {
			v, null := pgText(rows[i])
			out = append(out, pgtype.Text{String: v, Valid: !null})
		}
		return out
	default:
		panic("store: no PostgreSQL array for column type " + typ)
	}
}

// binary is the column in PostgreSQL's binary array format, as array_recv
// reads it: the number of dimensions (0 for an empty array, else 1), a
// has-nulls flag, the element type's OID, the length and lower bound of
// the dimension, then each element as its length (-1 for NULL) and its
// bytes, all integers big-endian ("Binary I/O" of arrays, src/backend/
// utils/adt/arrayfuncs.c). Writing it from the rows directly costs a
// fraction of pgx's generic array encoding, which the committer paid for
// every column of every commit. oid is the parameter's type as the server
// described it; another type is an error.
func (col pgColumn) binary(oid uint32) ([]byte, error) {
	rows, width := col.w.args, len(col.w.spec.cols)
	n := col.w.n
	if len(rows) != n*width {
		return nil, fmt.Errorf("store: %s: %d values for %d rows of %d columns", col.w.spec.table, len(rows), n, width)
	}
	var elem uint32
	size := 20
	switch typ := col.w.spec.types[col.c]; {
	case typ == "bigint" && oid == pgInt8ArrayOID:
		elem, size = pgInt8OID, size+12*n
	case typ == "text" && oid == pgTextArrayOID:
		elem = pgTextOID
		for i := col.c; i < len(rows); i += width {
			v, _ := pgText(rows[i])
			size += 4 + len(v)
		}
	default:
		return nil, fmt.Errorf("store: %s.%s: a %s column sent as a parameter of type OID %d", col.w.spec.table, col.w.spec.cols[col.c], typ, oid)
	}
	if n == 0 {
		return binary.BigEndian.AppendUint32(make([]byte, 8, 12), elem), nil
	}
	buf := make([]byte, 0, size)
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	nulls := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0) // has nulls, set below
	buf = binary.BigEndian.AppendUint32(buf, elem)
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	for i := col.c; i < len(rows); i += width {
		if elem == pgInt8OID {
			buf = binary.BigEndian.AppendUint32(buf, 8)
			buf = binary.BigEndian.AppendUint64(buf, uint64(pgInt(rows[i])))
			continue
		}
		v, null := pgText(rows[i])
		if null {
			buf[nulls+3] = 1
			buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32) // -1
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
		buf = append(buf, v...)
	}
	return buf, nil
}

// pgInt is a bigint column's value.
func pgInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int:
		return int64(v)
	}
	panic(fmt.Sprintf("store: %T in a bigint column", v))
}

// pgText is a text column's value: a string, or nil for NULL.
func pgText(v any) (s string, null bool) {
	switch v := v.(type) {
	case string:
		return v, false
	case nil:
		return "", true
	}
	panic(fmt.Sprintf("store: %T in a text column", v))
}

// combine joins consecutive statements into one, as data-modifying CTEs
// (WITH s0 AS (INSERT …), s1 AS (…) SELECT 1), up to maxParams parameters
// each, and rebinds them: PostgreSQL runs every one of them exactly once,
// on one snapshot, and checks foreign keys at the end of the statement
// (PostgreSQL documentation, "WITH Queries", §7.8.4). A statement that
// must find a row at each key (pgStmt.exact) returns a row per row it
// wrote, and the main query compares their count with its keys' (the
// cardinality of its first array): expect_rows (migration 0014), called
// only when a count differs, fails the statement with SQLSTATE CJ002.
func (p *pgDriver) combine(stmts []pgStmt) []pgStmt {
	var out []pgStmt
	for lo := 0; lo < len(stmts); {
		hi, params := lo, 0
		for hi < len(stmts) && (hi == lo || params+len(stmts[hi].args) <= maxParams) {
			params += len(stmts[hi].args)
			hi++
		}
		one := stmts[lo]
		if hi-lo > 1 || one.exact != "" {
			var sb strings.Builder
			var what, got, want []string
			one = pgStmt{args: make([]any, 0, params)}
			sb.WriteString("WITH ")
			for i, s := range stmts[lo:hi] {
				if i > 0 {
					sb.WriteString(", ")
				}
				body := s.sql
				if s.exact != "" {
					body += " RETURNING 1"
					what = append(what, "'"+s.exact+"'")
					got = append(got, fmt.Sprintf("(SELECT count(*) FROM s%d)", i))
					want = append(want, fmt.Sprintf("cardinality($%d::%s[])", len(one.args)+1, s.exactType))
				}
				fmt.Fprintf(&sb, "s%d AS (%s)", i, body)
				one.args = append(one.args, s.args...)
			}
			if len(what) == 0 {
				sb.WriteString(" SELECT 1")
			} else {
				checks := make([]string, len(got))
				for i := range got {
					checks[i] = got[i] + " = " + want[i]
				}
				fmt.Fprintf(&sb, " SELECT CASE WHEN %s THEN 1 ELSE expect_rows(ARRAY[%s], ARRAY[%s], ARRAY[%s]) END",
					strings.Join(checks, " AND "), strings.Join(what, ", "), strings.Join(got, ", "), strings.Join(want, ", "))
			}
			one.sql = sb.String()
		}
		one.sql = p.rebind(one.sql)
		out = append(out, one)
		lo = hi
	}
	return out
}

// pgHeadMoved is the SQLSTATE expect_journal_head raises (migration
// 0005_expect_journal_head), and pgRowsMissing expect_rows's (migration
// 0014_blocks_by_key).
const (
	pgHeadMoved   = "CJ001"
	pgRowsMissing = "CJ002"
)

// commitOn sends the whole write as one pipeline with a single Sync: the
// write lock, the head check, the writes, and the commit, which the Sync
// makes: "If the client has not issued an explicit BEGIN, then each Sync
// ordinarily causes an implicit COMMIT if the preceding step(s) succeeded,
// or an implicit ROLLBACK if they failed" (PostgreSQL documentation,
// "Frontend/Backend Protocol", "Pipelining", §55.2.4). Each message is its
// own statement with its own snapshot (READ COMMITTED), so the head check
// sees every commit the lock waited for. One round trip instead of five
// (BEGIN, lock, head read, writes, COMMIT). Each statement is prepared once
// per connection (pgx keeps it by its text, which depends only on which
// tables the batch writes; the first commit of a text on a connection
// costs one more round trip, before anything is sent), so the server
// neither parses nor plans a commit's statements, and the parameters, a
// column each (pgStatements), are sent in binary. A prepared statement
// keeps a generic plan made on the tables as they were, so every statement
// must search by key whatever the tables' size
// (TestPostgresWritesSearchByKey).
//
// The answer: an ERROR the server reports for any statement or for the
// commit means the transaction rolled back (known not committed; ErrStale
// for a moved head or a taken key); anything else once the pipeline may
// have left (a broken connection, a FATAL, the context ended) is
// ErrOutcomeUnknown, as for COMMIT (commitError).
func (p *pgDriver) commitOn(ctx context.Context, d *DB, head ledger.Entry, writes []tableWrite) error {
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: write: %w", err)
	}
	defer conn.Close()
	var b pgconn.Batch
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		queue := func(query string, args ...any) error {
			sd, err := pc.Prepare(ctx, query, query)
			if err != nil {
				return fmt.Errorf("store: write: prepare: %w", err)
			}
			vals := make([][]byte, len(args))
			formats := make([]int16, len(args))
			for i, a := range args {
				if col, ok := a.(pgColumn); ok {
					vals[i], err = col.binary(sd.ParamOIDs[i])
				} else {
					vals[i], err = pc.TypeMap().Encode(sd.ParamOIDs[i], pgtype.BinaryFormatCode, a, nil)
				}
				if err != nil {
					return fmt.Errorf("store: write: encode parameter %d: %w", i+1, err)
				}
				formats[i] = pgtype.BinaryFormatCode
			}
			b.ExecStatement(sd, vals, formats, nil)
			return nil
		}
		if err := queue(`SELECT pg_advisory_xact_lock(hashtext(current_schema()))`); err != nil {
			return err
		}
		if err := queue(`SELECT expect_journal_head($1::bigint, $2::text)`, head.Seq, head.Hash); err != nil {
			return err
		}
		for _, s := range p.combine(pgStatements(writes)) {
			if err := queue(s.sql, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Faults are injected with the connection in hand, so a test can end
	// its session first.
	if err := d.injectFault(FaultBeforeCommit); err != nil {
		return err
	}
	if err := d.injectFault(FaultDuringCommit); err != nil {
		return outcomeUnknown(err)
	}
	var werr error
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn().PgConn()
		results, err := pc.ExecBatch(ctx, &b).ReadAll()
		werr = pipelineError(results, err)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write: %w", err)
	}
	if werr != nil {
		return werr
	}
	if err := d.injectFault(FaultAfterCommit); err != nil {
		return outcomeUnknown(err)
	}
	return nil
}

// pipelineError classifies a pipeline's results and error (commitOn).
func pipelineError(results []*pgconn.Result, err error) error {
	for _, r := range results {
		if rerr := pgRefused(r.Err); rerr != nil {
			return rerr
		}
	}
	switch {
	case err == nil:
		return nil
	case pgRefused(err) != nil:
		return pgRefused(err)
	}
	// Not pgconn.SafeToRetry: after a failed read, pgconn answers "conn
	// closed", which it marks safe to retry, for a pipeline the server did
	// receive and commit (TestCommitOnReplyLost).
	return outcomeUnknown(fmt.Errorf("store: write: %w", err))
}

// pgRefused returns the answer for an ERROR the server reported, which
// rolls the transaction back, or nil when err is no such ERROR (a
// connection failure, a FATAL, or nil).
func pgRefused(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Severity != "ERROR" || strings.HasPrefix(pgErr.Code, "08") {
		return nil
	}
	switch pgErr.Code {
	case pgUniqueViolation:
		return ErrStale
	case pgHeadMoved, pgRowsMissing:
		return fmt.Errorf("%w: %s", ErrStale, pgErr.Message)
	}
	return fmt.Errorf("store: write: %w", err)
}

// keyed joins the keys, one text[] parameter sent in binary, to one
// index search each: a LIMIT keeps the lateral subquery from being pulled
// up into a join, so the plan is an index search per key even when it was
// made on an empty table. (database/sql statements are prepared and, after
// five runs, keep a generic plan: `idem_key IN (SELECT unnest($1))`
// planned on a new node's empty journal stayed a sequential scan of the
// whole journal, 13 ms a batch at 22,000 entries; TestPostgresKeyedSearchesByIndex.)
// A key is at most once in table (primary key or UNIQUE), so the LIMIT
// drops nothing.
func (*pgDriver) keyed(table string, keys []string) (string, any) {
	return "unnest(?::text[]) AS k(key) CROSS JOIN LATERAL (SELECT * FROM " + table + " WHERE idem_key = k.key LIMIT 1) AS " + table, keys
}

// pgUniqueViolation is SQLSTATE unique_violation (PostgreSQL documentation,
// Appendix A "PostgreSQL Error Codes").
const pgUniqueViolation = "23505"

func (*pgDriver) isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation
}

// commitError: the server answers a COMMIT it refused with an ERROR (a
// deferred constraint, a serialization failure): the transaction is rolled
// back, known not committed. Anything else — the connection broke, a read
// timed out, the context ended (database/sql may then not have sent COMMIT
// at all, but unknown is the answer that is never wrong), or the server
// sent FATAL/PANIC (e.g. 57P01 admin_shutdown, class 08 connection
// exception), which ends the session and may come after the commit record
// was written — leaves the outcome unknown: the client learns of a commit
// only from its CommandComplete (PostgreSQL documentation, "Message Flow",
// "Frontend/Backend Protocol", Message Flow, Simple Query).
func (*pgDriver) commitError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Severity == "ERROR" && !strings.HasPrefix(pgErr.Code, "08") {
		if pgErr.Code == pgUniqueViolation {
			return ErrStale
		}
		return fmt.Errorf("store: commit: %w", err)
	}
	return outcomeUnknown(fmt.Errorf("store: commit: %w", err))
}

// snapshot: a REPEATABLE READ transaction takes its snapshot at its first
// statement, not at BEGIN (PostgreSQL documentation, "Transaction
// Isolation", §13.2.2), so one is run here: the view is of this moment,
// not of the caller's first read.
func (*pgDriver) snapshot(ctx context.Context, db *sql.DB) (querier, func(), error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("store: begin snapshot: %w", err)
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		_ = tx.Rollback()
		return nil, nil, fmt.Errorf("store: start snapshot: %w", err)
	}
	return tx, func() { _ = tx.Rollback() }, nil
}
