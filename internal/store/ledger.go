package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// Batch is everything one group of transactions writes.
//
// Blocks are written as their final state, by key (issuance, start); a key
// is in one of the four lists at most. A writer that knows which keys the
// store holds says so: SetBlocks replace rows the store holds at their
// keys, AddBlocks are keys it does not hold, and DeleteBlocks are keys it
// holds that the batch removes (merged away, or shifted: a block whose
// first units left starts later). PutBlocks are upserted, for a writer
// that does not know. On PostgreSQL a set or deleted key the store does
// not hold, or an added key it does, fails the whole batch with ErrStale
// (the writer's view of the blocks is not the database's), and an added
// block is written as an update of a deleted key's row of the same
// issuance (planBlocks); SQLite upserts and deletes as for PutBlocks.
type Batch struct {
	Orgs      []ledger.Organisation
	Accounts  []ledger.Account // upsert: new accounts and status changes
	Issuances []ledger.Issuance
	PutBlocks []ledger.Block
	SetBlocks []ledger.Block
	AddBlocks []ledger.Block
	// DeleteBlocks are read for their key, and their account: a deleted
	// row is preferably reused for an added block of the same account.
	DeleteBlocks []ledger.Block
	Entries      []ledger.Entry
	Movements    []ledger.Movement
	Tokens       []ledger.Token
	Rejections   []Rejection

	ahead *aheadRows // rows planned by Prepare
}

// WriteTx is the one write transaction of a batch. BeginWrite takes the
// node's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped
// advisory lock on the node's schema), so writers in several processes take
// turns, and returns the journal head as of that moment: a writer whose
// memory is behind reloads before it applies anything.
type WriteTx struct {
	d  *DB
	tx *sql.Tx
}

// headQuery reads the journal head.
const headQuery = `SELECT ` + entryCols + ` FROM journal ORDER BY seq DESC LIMIT 1`

// BeginWrite starts a write transaction and returns the journal head.
func (d *DB) BeginWrite(ctx context.Context) (*WriteTx, ledger.Entry, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, ledger.Entry{}, fmt.Errorf("store: begin: %w", err)
	}
	if err := d.drv.lock(ctx, tx); err != nil {
		tx.Rollback()
		return nil, ledger.Entry{}, err
	}
	// Prepared once per connection: parsing it cost SQLite more than
	// running it, once per group commit.
	ps, err := d.preparedWrite(ctx, headQuery)
	if err != nil {
		tx.Rollback()
		return nil, ledger.Entry{}, err
	}
	head, err := scanEntry(tx.StmtContext(ctx, ps).QueryRowContext(ctx))
	if errors.Is(err, sql.ErrNoRows) {
		head, err = ledger.Entry{}, nil
	}
	if err != nil {
		tx.Rollback()
		return nil, ledger.Entry{}, fmt.Errorf("store: read journal head: %w", err)
	}
	return &WriteTx{d: d, tx: tx}, head, nil
}

// Rollback abandons the transaction.
func (w *WriteTx) Rollback() { _ = w.tx.Rollback() }

// Commit writes b and commits. It returns ErrStale when a key is already
// taken (a journal entry's sequence number or idempotency key, or any other
// row's), a *TextError for text no driver stores, and an error wrapping
// ErrOutcomeUnknown when the commit may or may not have happened; any other
// error means nothing was committed. Either way the transaction is over.
func (w *WriteTx) Commit(ctx context.Context, b *Batch) (err error) {
	p := planBatch(b, w.d.drv.dialect())
	if p.err != nil {
		w.Rollback()
		return p.err
	}
	return w.commit(ctx, p.writes)
}

// commit runs a planned batch in the transaction and commits it.
func (w *WriteTx) commit(ctx context.Context, writes []tableWrite) (err error) {
	d, tx := w.d, w.tx
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := d.drv.exec(ctx, d, tx, writes); err != nil {
		if d.drv.isUniqueViolation(err) {
			return ErrStale
		}
		return err
	}
	if err := d.injectFault(FaultBeforeCommit); err != nil {
		return err
	}
	if err := d.injectFault(FaultDuringCommit); err != nil {
		return outcomeUnknown(err)
	}
	if err := tx.Commit(); err != nil {
		return d.drv.commitError(err)
	}
	if err := d.injectFault(FaultAfterCommit); err != nil {
		return outcomeUnknown(err)
	}
	return nil
}

// CommitOn writes b in one transaction if, and only if, the journal head
// is still head (zero Seq: the journal is empty): the write path of a
// writer that decided b ahead, on the state it last committed. It answers
// as Commit does, and ErrStale when the head has moved, in which case
// nothing was written. It takes the node's write lock for the transaction
// only; on PostgreSQL the lock, the head check, the writes and the commit
// are one network round trip (postgres.go, commitOn).
func (d *DB) CommitOn(ctx context.Context, head ledger.Entry, b *Batch) error {
	p := planBatch(b, d.drv.dialect())
	if p.err != nil {
		return p.err
	}
	return d.drv.commitOn(ctx, d, head, p.writes)
}

// commitOnTx is CommitOn as BeginWrite, a comparison and Commit: for a
// database in this process, where a statement is a function call rather
// than a round trip.
func commitOnTx(ctx context.Context, d *DB, head ledger.Entry, writes []tableWrite) error {
	w, got, err := d.BeginWrite(ctx)
	if err != nil {
		return err
	}
	if got.Seq != head.Seq || got.Hash != head.Hash {
		w.Rollback()
		return fmt.Errorf("%w: the journal head is %d %s, not %d %s", ErrStale, got.Seq, got.Hash, head.Seq, head.Hash)
	}
	return w.commit(ctx, writes)
}

// The tables a batch writes, in the order it writes them. The journal goes
// first: it is the optimistic lock, and failing on it before any other
// write keeps a stale writer's attempt cheap. Deleted (merged-away) and
// upserted blocks are disjoint keys, so those two may run in either order.
// types are the columns' PostgreSQL types (postgres.go sends each column as
// one array).
var (
	journalTable = &tableSpec{table: "journal",
		cols:  []string{"seq", "at", "kind", "actor", "idem_key", "request_hash", "body", "prev_hash", "hash"},
		types: []string{"bigint", "text", "text", "text", "text", "text", "text", "text", "text"}}
	orgsTable = &tableSpec{table: "organisations",
		cols:  []string{"id", "name", "country", "created_at"},
		types: []string{"bigint", "text", "text", "text"}}
	accountsTable = &tableSpec{table: "accounts",
		cols:   []string{"id", "org_id", "type", "status", "name", "created_at"},
		types:  []string{"bigint", "bigint", "text", "text", "text", "text"},
		suffix: "ON CONFLICT (id) DO UPDATE SET status = excluded.status, name = excluded.name"}
	issuancesTable = &tableSpec{table: "issuances",
		cols:  []string{"id", "standard", "unit_type", "project", "project_name", "methodology", "host_country", "vintage", "quantity", "account_id", "seq", "created_at"},
		types: []string{"bigint", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint", "text"}}
	blockDeletes = &tableSpec{table: "blocks", delete: true,
		cols:  []string{"issuance_id", "start_serial"},
		types: []string{"bigint", "bigint"}}
	blocksTable = &tableSpec{table: "blocks",
		cols:   []string{"issuance_id", "start_serial", "end_serial", "account_id", "state", "pending"},
		types:  []string{"bigint", "bigint", "bigint", "bigint", "text", "bigint"},
		suffix: "ON CONFLICT (issuance_id, start_serial) DO UPDATE SET end_serial = excluded.end_serial, account_id = excluded.account_id, state = excluded.state, pending = excluded.pending"}
	// PostgreSQL only (planBlocks): the rows at stored keys, deleted or
	// updated (the key itself too, for a block that starts later), each
	// exactly one row; and new keys, inserted without ON CONFLICT, so a
	// key already stored is a unique violation (ErrStale).
	pgBlockDeletes = &tableSpec{table: "blocks", delete: true, exact: "deleted blocks", postgresOnly: true,
		cols:  blockDeletes.cols,
		types: blockDeletes.types}
	pgBlockUpdates = &tableSpec{table: "blocks", update: 2, exact: "updated blocks", postgresOnly: true,
		cols:  []string{"issuance_id", "start_serial", "start_serial", "end_serial", "account_id", "state", "pending"},
		types: []string{"bigint", "bigint", "bigint", "bigint", "bigint", "text", "bigint"}}
	pgBlockInserts = &tableSpec{table: "blocks", postgresOnly: true,
		cols:  blocksTable.cols,
		types: blocksTable.types}
	movementsTable = &tableSpec{table: "movements",
		cols:  []string{"seq", "issuance_id", "start_serial", "end_serial", "from_account", "to_account", "from_state", "to_state", "span_level"},
		types: []string{"bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "text", "text", "bigint"}}
	tokensTable = &tableSpec{table: "tokens",
		cols:  []string{"hash", "org_id", "role", "name", "created_at"},
		types: []string{"text", "bigint", "text", "text", "text"}}
	rejectionsTable = &tableSpec{table: "rejections",
		cols:  []string{"idem_key", "request_hash", "after_seq", "at", "body"},
		types: []string{"text", "text", "bigint", "text", "text"}}
)

// planBatch plans b's writes for a database of dialect dl, checking its
// text. Rows of the append-only lists that Prepare planned already are
// taken as planned.
func planBatch(b *Batch, dl Dialect) writePlan {
	var p writePlan
	var ah aheadRows
	if b.ahead != nil {
		ah = *b.ahead
	}
	if p.err = b.checkMovements(); p.err != nil {
		return p
	}
	p.rowsAfter(journalTable, &ah.entries, len(b.Entries), b.entryRow)
	p.rowsAfter(orgsTable, &ah.orgs, len(b.Orgs), b.orgRow)
	p.rows(accountsTable, len(b.Accounts), func(i int, a []any) []any {
		x := b.Accounts[i]
		return append(a, x.ID, x.OrgID, string(x.Type), string(x.Status), x.Name, timeText(x.CreatedAt))
	})
	p.rowsAfter(issuancesTable, &ah.issuances, len(b.Issuances), b.issuanceRow)
	if dl == Postgres {
		p.planBlocks(b)
	} else {
		p.blockRows(blockDeletes, b.DeleteBlocks)
		p.blockRows(blocksTable, b.PutBlocks, b.SetBlocks, b.AddBlocks)
	}
	p.rowsAfter(movementsTable, &ah.movements, len(b.Movements), b.movementRow)
	p.rowsAfter(tokensTable, &ah.tokens, len(b.Tokens), b.tokenRow)
	p.rowsAfter(rejectionsTable, &ah.rejections, len(b.Rejections), b.rejectionRow)
	return p
}

// checkMovements refuses a movement of no entry of the batch: every
// movement is written with the entry that made it (registry's apply), so
// one naming another sequence number is a writer's bug, and an orphan in
// the database (PostgreSQL has no foreign key from movements to the
// journal since migration 0014). A batch's entries follow one another
// (the journal's chain), so the check is against their first and last.
func (b *Batch) checkMovements() error {
	if len(b.Movements) == 0 {
		return nil
	}
	if len(b.Entries) == 0 {
		return fmt.Errorf("store: movement of entry %d in a batch without entries", b.Movements[0].Seq)
	}
	lo, hi := b.Entries[0].Seq, b.Entries[0].Seq
	for _, e := range b.Entries[1:] {
		lo, hi = min(lo, e.Seq), max(hi, e.Seq)
	}
	for _, m := range b.Movements {
		if m.Seq < lo || m.Seq > hi {
			return fmt.Errorf("store: movement of entry %d in a batch of entries %d-%d", m.Seq, lo, hi)
		}
	}
	return nil
}

// blockRows plans the blocks of lists into table t: keys only for a
// delete, whole rows otherwise.
func (p *writePlan) blockRows(t *tableSpec, lists ...[]ledger.Block) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	i, j := 0, 0 // list, and index in it, of row k
	p.rows(t, n, func(k int, a []any) []any {
		for j == len(lists[i]) {
			i, j = i+1, 0
		}
		x := lists[i][j]
		j++
		if t.delete {
			return append(a, x.Issuance, x.Start)
		}
		return append(a, x.Issuance, x.Start, x.End, x.Account, string(x.State), x.Pending)
	})
}

// planBlocks plans the block writes for PostgreSQL. Each added block takes
// the row of a deleted key of the same issuance when there is one (of the
// same account, when there is one): the row is updated, start included,
// instead of deleted and another inserted. A block whose first units left
// (the sender's in a transfer) is then one update, and since neither its
// issuance nor its account changes, its foreign key is not checked
// ("Foreign Keys", §5.4.5; RI_FKey_fk_upd_check_required). The keys are
// disjoint: a deleted or set key is stored and no longer or still in the
// final state, an added key is not stored and is in it; so no two writes
// touch one row or one key, and their order in the one statement is free.
func (p *writePlan) planBlocks(b *Batch) {
	type key struct{ iss, acc int64 }
	free := map[key][]int{}  // unpaired deleted rows, by issuance and account
	byIss := map[int64]int{} // unpaired deleted rows per issuance
	for i, d := range b.DeleteBlocks {
		free[key{d.Issuance, d.Account}] = append(free[key{d.Issuance, d.Account}], i)
		byIss[d.Issuance]++
	}
	used := make([]bool, len(b.DeleteBlocks))
	take := func(k key) int {
		l := free[k]
		for len(l) > 0 && used[l[len(l)-1]] {
			l = l[:len(l)-1]
		}
		free[k] = l
		if len(l) == 0 {
			return -1
		}
		return l[len(l)-1]
	}
	type move struct {
		from int // index in DeleteBlocks
		to   ledger.Block
	}
	var moves []move
	var adds []ledger.Block
	for _, x := range b.AddBlocks {
		from := -1
		if byIss[x.Issuance] > 0 {
			if from = take(key{x.Issuance, x.Account}); from < 0 {
				for i, d := range b.DeleteBlocks {
					if !used[i] && d.Issuance == x.Issuance {
						from = i
						break
					}
				}
			}
		}
		if from < 0 {
			adds = append(adds, x)
			continue
		}
		used[from] = true
		byIss[x.Issuance]--
		moves = append(moves, move{from, x})
	}
	dels := make([]ledger.Block, 0, len(b.DeleteBlocks)-len(moves))
	for i, d := range b.DeleteBlocks {
		if !used[i] {
			dels = append(dels, d)
		}
	}
	p.blockRows(pgBlockDeletes, dels)
	p.rows(pgBlockUpdates, len(moves)+len(b.SetBlocks), func(i int, a []any) []any {
		from, x := int64(0), ledger.Block{}
		if i < len(moves) {
			x = moves[i].to
			from = b.DeleteBlocks[moves[i].from].Start
		} else {
			x = b.SetBlocks[i-len(moves)]
			from = x.Start
		}
		return append(a, x.Issuance, from, x.Start, x.End, x.Account, string(x.State), x.Pending)
	})
	p.blockRows(pgBlockInserts, adds)
	p.blockRows(blocksTable, b.PutBlocks)
}

// aheadRows are the rows of a batch's append-only lists planned ahead.
type aheadRows struct {
	entries, orgs, issuances, movements, tokens, rejections rowPrefix
}

// Prepare plans the rows appended so far to b's append-only lists
// (entries, organisations, issuances, movements, tokens, rejections), so
// that the commit plans only the rest: a writer that grows a batch while
// the one before commits moves that work out of the commit. Rows planned
// must not change afterwards (lists may only grow); accounts and blocks,
// which a batch rewrites, are always planned at commit.
func (b *Batch) Prepare() {
	if b.ahead == nil {
		b.ahead = &aheadRows{}
	}
	ah := b.ahead
	ah.entries.plan(journalTable, len(b.Entries), b.entryRow)
	ah.orgs.plan(orgsTable, len(b.Orgs), b.orgRow)
	ah.issuances.plan(issuancesTable, len(b.Issuances), b.issuanceRow)
	ah.movements.plan(movementsTable, len(b.Movements), b.movementRow)
	ah.tokens.plan(tokensTable, len(b.Tokens), b.tokenRow)
	ah.rejections.plan(rejectionsTable, len(b.Rejections), b.rejectionRow)
}

func (b *Batch) entryRow(i int, a []any) []any {
	e := b.Entries[i]
	var key any
	if e.IdemKey != "" {
		key = e.IdemKey
	}
	return append(a, e.Seq, timeText(e.At), e.Kind, e.Actor, key, e.RequestHash, e.Body, e.PrevHash, e.Hash)
}

func (b *Batch) orgRow(i int, a []any) []any {
	o := b.Orgs[i]
	return append(a, o.ID, o.Name, o.Country, timeText(o.CreatedAt))
}

func (b *Batch) issuanceRow(i int, a []any) []any {
	x := b.Issuances[i]
	return append(a, x.ID, x.Standard, x.UnitType, x.Project, x.ProjectName, x.Methodology, x.HostCountry, x.Vintage, x.Quantity, x.AccountID, x.Seq, timeText(x.CreatedAt))
}

func (b *Batch) movementRow(i int, a []any) []any {
	m := b.Movements[i]
	return append(a, m.Seq, m.Issuance, m.Start, m.End, m.FromAccount, m.ToAccount, string(m.FromState), string(m.ToState), spanLevel(m.Start, m.End))
}

func (b *Batch) tokenRow(i int, a []any) []any {
	t := b.Tokens[i]
	return append(a, t.Hash, t.OrgID, string(t.Role), t.Name, timeText(t.CreatedAt))
}

// injectFault calls the test's fault hook, if any.
func (d *DB) injectFault(p FaultPoint) error {
	if d.fault == nil {
		return nil
	}
	return d.fault(p)
}

// rowsPerStatement keeps every key lookup under SQLite's and PostgreSQL's
// parameter limits (32,766 and 65,535).
const rowsPerStatement = 400

// tableSpec is one kind of write a batch makes: rows inserted into (or,
// with delete, deleted by key from; with update, updated by key in) a
// table.
type tableSpec struct {
	table  string
	cols   []string
	types  []string // PostgreSQL types of cols
	suffix string   // after the rows: ON CONFLICT …
	delete bool     // delete the rows whose cols equal the values
	// update > 0: the first update cols are a row's key, and the others
	// the values its columns of those names are set to.
	update int
	// exact, when set, names the rows in the error when the write does
	// not find one row at each key (PostgreSQL, combine).
	exact string
	// postgresOnly: no SQLite statement (planBlocks).
	postgresOnly bool

	colList  string
	once     sync.Once
	sqlite   map[int]string // the statement of each chunk size (sqliteChunks)
	postgres string
}

func (t *tableSpec) init() {
	t.once.Do(func() {
		t.colList = strings.Join(t.cols, ", ")
		if !t.postgresOnly {
			t.sqlite = make(map[int]string, len(sqliteChunks))
			for _, n := range sqliteChunks {
				t.sqlite[n] = t.sqliteSQL(n)
			}
		}
		t.postgres = t.postgresSQL()
	})
}

// sqliteSQL writes n rows as one statement: a multi-row INSERT, or a
// DELETE of a row-value IN list, which SQLite answers with one primary key
// search per key (TestSQLiteWritesSearchByKey).
func (t *tableSpec) sqliteSQL(n int) string {
	var sb strings.Builder
	if t.delete {
		sb.WriteString("DELETE FROM " + t.table + " WHERE (" + t.colList + ") IN (")
		one := "(" + strings.Repeat("?, ", len(t.cols)-1) + "?)"
		for i := range n {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(one)
		}
		return sb.String() + ")"
	}
	one := "(" + strings.Repeat("?, ", len(t.cols)-1) + "?)"
	sb.WriteString("INSERT INTO " + t.table + " (" + t.colList + ") VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(one)
	}
	if t.suffix != "" {
		sb.WriteString(" " + t.suffix)
	}
	return sb.String()
}

// postgresSQL writes any number of rows as one statement with one
// parameter per column, an array of the column's type: the text does not
// depend on the row count, so the server never parses a statement of
// thousands of parameters, and the parameter limit never splits a batch.
func (t *tableSpec) postgresSQL() string {
	arrays := make([]string, len(t.cols))
	for i, typ := range t.types {
		arrays[i] = "?::" + typ + "[]"
	}
	rows := "SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ")"
	if t.delete || t.update > 0 {
		// Each key is one index search (a LIMIT keeps the lateral subquery
		// a nested loop) and each row found is deleted or updated by its
		// physical address (Tid Scan): `(cols) IN (SELECT * FROM
		// unnest(…))`, planned generic on a new node's empty table, stayed
		// a hash join over a scan of the whole table
		// (TestPostgresWritesSearchByKey). The key columns are the primary
		// key, so the LIMIT drops nothing; no other writer moves a row
		// between the search and the write, as every writer holds the
		// node's write lock.
		nkey := len(t.cols)
		if t.update > 0 {
			nkey = t.update
		}
		keys := make([]string, nkey)
		for i, c := range t.cols[:nkey] {
			keys[i] = fmt.Sprintf("%s = k.c%d", c, i)
		}
		found := "(SELECT found.ctid AS tid, k.* FROM unnest(" + strings.Join(arrays, ", ") + ") AS k(" + colNames("c", len(t.cols)) +
			") CROSS JOIN LATERAL (SELECT ctid FROM " + t.table + " WHERE " + strings.Join(keys, " AND ") + " LIMIT 1) AS found) AS u"
		where := " WHERE " + t.table + ".ctid = u.tid"
		if t.delete {
			return "DELETE FROM " + t.table + " USING " + found + where
		}
		sets := make([]string, 0, len(t.cols)-nkey)
		for i := nkey; i < len(t.cols); i++ {
			sets = append(sets, fmt.Sprintf("%s = u.c%d", t.cols[i], i))
		}
		return "UPDATE " + t.table + " SET " + strings.Join(sets, ", ") + " FROM " + found + where
	}
	q := "INSERT INTO " + t.table + " (" + t.colList + ") " + rows
	if t.suffix != "" {
		q += " " + t.suffix
	}
	return q
}

// colNames is prefix0, prefix1, … prefix(n-1).
func colNames(prefix string, n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return strings.Join(names, ", ")
}

// tableWrite is one table's rows in a batch.
type tableWrite struct {
	spec *tableSpec
	n    int
	args []any // n rows of len(spec.cols) values each, row after row
}

// row returns the values of rows [lo, hi).
func (w tableWrite) rowArgs(lo, hi int) []any {
	width := len(w.spec.cols)
	return w.args[lo*width : hi*width]
}

// writePlan is a batch's writes, in order. err is the first text value no
// driver can store (see checkText): the plan is not run.
type writePlan struct {
	writes []tableWrite
	err    error
}

// rows plans n rows into table t.
func (p *writePlan) rows(t *tableSpec, n int, row func(i int, args []any) []any) {
	p.rowsAfter(t, nil, n, row)
}

// rowsAfter plans n rows into table t, taking the first ones from ahead
// when it holds no more rows than that.
func (p *writePlan) rowsAfter(t *tableSpec, ahead *rowPrefix, n int, row func(i int, args []any) []any) {
	if n == 0 {
		return
	}
	var pre rowPrefix
	if ahead != nil && ahead.n <= n {
		// A full slice expression: the rest is appended to a copy, never
		// into the planned array.
		pre = rowPrefix{n: ahead.n, args: ahead.args[:len(ahead.args):len(ahead.args)], err: ahead.err}
	}
	pre.plan(t, n, row)
	if p.err == nil {
		p.err = pre.err
	}
	p.writes = append(p.writes, tableWrite{spec: t, n: n, args: pre.args})
}

// rowPrefix is the first n rows of one table's write, planned.
type rowPrefix struct {
	n    int
	args []any
	err  error // the first text value no driver can store
}

// plan adds rows [r.n, n) of table t.
func (r *rowPrefix) plan(t *tableSpec, n int, row func(i int, args []any) []any) {
	if n <= r.n {
		return
	}
	t.init()
	if r.args == nil {
		r.args = make([]any, 0, len(t.cols)*n)
	}
	for i := r.n; i < n; i++ {
		at := len(r.args)
		r.args = row(i, r.args)
		if r.err == nil {
			r.err = checkRow(t.table, t.colList, r.args[at:])
		}
	}
	r.n = n
}

// Snapshot is a node's whole state as loaded at start-up.
type Snapshot struct {
	Orgs      []ledger.Organisation
	Accounts  []ledger.Account
	Issuances []ledger.Issuance
	Head      ledger.Entry // zero Seq when the journal is empty
}

// Load reads the node's organisations, accounts, issuances and journal head;
// blocks are read with EachBlock.
func (d *DB) Load(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	rows, err := d.rq.QueryContext(ctx, `SELECT id, name, country, created_at FROM organisations ORDER BY id`)
	if err != nil {
		return s, fmt.Errorf("store: load organisations: %w", err)
	}
	for rows.Next() {
		var o ledger.Organisation
		var at string
		if err := rows.Scan(&o.ID, &o.Name, &o.Country, &at); err != nil {
			rows.Close()
			return s, fmt.Errorf("store: load organisations: %w", err)
		}
		o.CreatedAt = parseTime(at)
		s.Orgs = append(s.Orgs, o)
	}
	if err := closeRows(rows); err != nil {
		return s, err
	}
	rows, err = d.rq.QueryContext(ctx, `SELECT id, org_id, type, status, name, created_at FROM accounts ORDER BY id`)
	if err != nil {
		return s, fmt.Errorf("store: load accounts: %w", err)
	}
	for rows.Next() {
		var a ledger.Account
		var typ, status, at string
		if err := rows.Scan(&a.ID, &a.OrgID, &typ, &status, &a.Name, &at); err != nil {
			rows.Close()
			return s, fmt.Errorf("store: load accounts: %w", err)
		}
		a.Type, a.Status, a.CreatedAt = ledger.AccountType(typ), ledger.AccountStatus(status), parseTime(at)
		s.Accounts = append(s.Accounts, a)
	}
	if err := closeRows(rows); err != nil {
		return s, err
	}
	if s.Issuances, err = d.Issuances(ctx); err != nil {
		return s, err
	}
	s.Head, err = d.Head(ctx)
	return s, err
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: read rows: %w", err)
	}
	return nil
}

// Issuances returns every issuance in id order.
func (d *DB) Issuances(ctx context.Context) ([]ledger.Issuance, error) {
	rows, err := d.rq.QueryContext(ctx, `SELECT id, standard, unit_type, project, project_name, methodology, host_country, vintage, quantity, account_id, seq, created_at FROM issuances ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: load issuances: %w", err)
	}
	var out []ledger.Issuance
	for rows.Next() {
		var x ledger.Issuance
		var at string
		if err := rows.Scan(&x.ID, &x.Standard, &x.UnitType, &x.Project, &x.ProjectName, &x.Methodology, &x.HostCountry, &x.Vintage, &x.Quantity, &x.AccountID, &x.Seq, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load issuances: %w", err)
		}
		x.CreatedAt = parseTime(at)
		out = append(out, x)
	}
	return out, closeRows(rows)
}

// EachBlock streams every block in (issuance, start) order.
func (d *DB) EachBlock(ctx context.Context, fn func(ledger.Block) error) error {
	rows, err := d.rq.QueryContext(ctx, `SELECT issuance_id, start_serial, end_serial, account_id, state, pending FROM blocks ORDER BY issuance_id, start_serial`)
	if err != nil {
		return fmt.Errorf("store: read blocks: %w", err)
	}
	for rows.Next() {
		var b ledger.Block
		var st string
		if err := rows.Scan(&b.Issuance, &b.Start, &b.End, &b.Account, &st, &b.Pending); err != nil {
			rows.Close()
			return fmt.Errorf("store: read blocks: %w", err)
		}
		b.State = ledger.State(st)
		if err := fn(b); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

const entryCols = `seq, at, kind, actor, COALESCE(idem_key, ''), request_hash, body, prev_hash, hash`

func scanEntry(sc interface{ Scan(...any) error }) (ledger.Entry, error) {
	var e ledger.Entry
	var at string
	err := sc.Scan(&e.Seq, &at, &e.Kind, &e.Actor, &e.IdemKey, &e.RequestHash, &e.Body, &e.PrevHash, &e.Hash)
	e.At = parseTime(at)
	return e, err
}

// Head returns the last journal entry (zero Seq when the journal is empty).
func (d *DB) Head(ctx context.Context) (ledger.Entry, error) {
	e, err := scanEntry(d.rq.QueryRowContext(ctx, `SELECT `+entryCols+` FROM journal ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return ledger.Entry{}, nil
	}
	if err != nil {
		return e, fmt.Errorf("store: read journal head: %w", err)
	}
	return e, nil
}

// EntriesByKey returns the entries recorded under the given idempotency
// keys. A key that cannot be stored (ErrInvalidText) matches nothing.
func (d *DB) EntriesByKey(ctx context.Context, keys []string) (map[string]ledger.Entry, error) {
	out := make(map[string]ledger.Entry, len(keys))
	for _, args := range keyChunks(keys) {
		rows, err := d.rq.QueryContext(ctx, d.q(`SELECT `+entryCols+` FROM journal WHERE idem_key IN (?`+strings.Repeat(", ?", len(args)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: read journal by key: %w", err)
		}
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read journal by key: %w", err)
			}
			out[e.IdemKey] = e
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Outcomes returns what the given idempotency keys already stand for:
// the journal entries and the rejections recorded under them (a key is in
// one or the other, never both). It is one statement whatever the number
// of keys, prepared once: the writer reads it for every batch. A key that
// cannot be stored (ErrInvalidText) matches nothing.
func (d *DB) Outcomes(ctx context.Context, keys []string) (map[string]ledger.Entry, map[string]Rejection, error) {
	entries, rejections := map[string]ledger.Entry{}, map[string]Rejection{}
	stored := make([]string, 0, len(keys))
	for _, k := range keys {
		if storable(k) {
			stored = append(stored, k)
		}
	}
	if len(stored) == 0 {
		return entries, rejections, nil
	}
	query, arg := d.outcomesQuery(stored)
	var rows *sql.Rows
	var err error
	if d.rq == querier(d.sql) {
		var ps *sql.Stmt
		if ps, err = d.prepared(ctx, query); err != nil {
			return nil, nil, err
		}
		rows, err = ps.QueryContext(ctx, arg, arg)
	} else {
		rows, err = d.rq.QueryContext(ctx, query, arg, arg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: read outcomes by key: %w", err)
	}
	for rows.Next() {
		var rejected bool
		var e ledger.Entry
		var at string
		if err := rows.Scan(&rejected, &e.Seq, &at, &e.Kind, &e.Actor, &e.IdemKey, &e.RequestHash, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: read outcomes by key: %w", err)
		}
		if rejected {
			rejections[e.IdemKey] = Rejection{Key: e.IdemKey, RequestHash: e.RequestHash, AfterSeq: e.Seq, At: parseTime(at), Body: e.Body}
			continue
		}
		e.At = parseTime(at)
		entries[e.IdemKey] = e
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, err
	}
	return entries, rejections, nil
}

// outcomesQuery is Outcomes' statement, whose two parameters are both arg.
func (d *DB) outcomesQuery(keys []string) (query string, arg any) {
	journal, arg := d.drv.keyed("journal", keys)
	rejections, _ := d.drv.keyed("rejections", keys)
	return d.q(`SELECT 0, ` + entryCols + ` FROM ` + journal + `
		UNION ALL SELECT 1, after_seq, at, '', '', idem_key, request_hash, body, '', '' FROM ` + rejections), arg
}

// keyChunks splits keys into query arguments of at most rowsPerStatement
// each, leaving out keys no driver can store (they match nothing, on every
// driver; PostgreSQL would fail the whole query on them).
func keyChunks(keys []string) [][]any {
	var out [][]any
	var args []any
	for _, k := range keys {
		if !storable(k) {
			continue
		}
		if len(args) == rowsPerStatement {
			out, args = append(out, args), nil
		}
		args = append(args, k)
	}
	if len(args) > 0 {
		out = append(out, args)
	}
	return out
}

// EntryFilter selects journal entries.
type EntryFilter struct {
	AfterSeq int64
	Kind     string // "" for every kind
	Limit    int
	// Account, when not 0, keeps the entries that moved units into or out
	// of that account.
	Account int64
	// Since and Until, when not zero, keep the entries of the UTC days from
	// Since to Until inclusive (times are compared by their date part).
	Since, Until time.Time
}

// Entries lists journal entries in sequence order. A kind that cannot be
// stored (ErrInvalidText) matches nothing.
func (d *DB) Entries(ctx context.Context, f EntryFilter) ([]ledger.Entry, error) {
	if !storable(f.Kind) {
		return nil, nil
	}
	query := `SELECT ` + entryCols + ` FROM journal WHERE seq > ?`
	args := []any{f.AfterSeq}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Account != 0 {
		query += ` AND seq IN (SELECT seq FROM movements WHERE from_account = ? OR to_account = ?)`
		args = append(args, f.Account, f.Account)
	}
	// at is RFC 3339 text: its first ten characters are the UTC date, so
	// comparing with a bare date is exact at day boundaries.
	if !f.Since.IsZero() {
		query += ` AND at >= ?`
		args = append(args, f.Since.UTC().Format(time.DateOnly))
	}
	if !f.Until.IsZero() {
		query += ` AND at < ?`
		args = append(args, f.Until.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
	}
	query += ` ORDER BY seq`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.rq.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list journal: %w", err)
	}
	var out []ledger.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list journal: %w", err)
		}
		out = append(out, e)
	}
	return out, closeRows(rows)
}

// EachEntry streams the whole journal in sequence order.
func (d *DB) EachEntry(ctx context.Context, fn func(ledger.Entry) error) error {
	rows, err := d.rq.QueryContext(ctx, `SELECT `+entryCols+` FROM journal ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("store: read journal: %w", err)
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("store: read journal: %w", err)
		}
		if err := fn(e); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

// maxSpanLevel is the bit length of the longest block (ledger.MaxSerial <
// 2^50); unknownSpanLevel marks movements stored before span levels existed.
const (
	maxSpanLevel     = 50
	unknownSpanLevel = 63
)

// spanLevel is the bucket of a movement: the bit length of end - start.
func spanLevel(start, end int64) int {
	return bits.Len64(uint64(end - start))
}

// rangeHistoryQuery unions one index range per span level: a movement of
// level L touching [a, b] starts in (a - 2^L, b] and ends at or after a.
var rangeHistoryQuery = func() string {
	var b strings.Builder
	b.WriteString(`SELECT m.seq, m.issuance_id, m.start_serial, m.end_serial, m.from_account, m.to_account, m.from_state, m.to_state,
		j.seq, j.at, j.kind, j.actor, COALESCE(j.idem_key, ''), j.request_hash, j.body, j.prev_hash, j.hash
		FROM (`)
	for level := 0; level <= maxSpanLevel; level++ {
		fmt.Fprintf(&b, `SELECT * FROM movements WHERE issuance_id = ? AND span_level = %d AND start_serial BETWEEN ? AND ? AND end_serial >= ? UNION ALL `, level)
	}
	fmt.Fprintf(&b, `SELECT * FROM movements WHERE issuance_id = ? AND span_level = %d AND start_serial <= ? AND end_serial >= ?`, unknownSpanLevel)
	b.WriteString(`) m JOIN journal j ON j.seq = m.seq ORDER BY m.seq, m.start_serial`)
	return b.String()
}()

// SerialHistory lists the movements that touched one serial, oldest first,
// each with its journal entry. Its cost does not grow with the number of
// blocks in the issuance (see rangeHistoryQuery).
func (d *DB) SerialHistory(ctx context.Context, issuance, serial int64) ([]ledger.Movement, []ledger.Entry, error) {
	return d.RangeHistory(ctx, issuance, serial, serial, 0)
}

// RangeHistory lists the movements that touched any serial of [start, end],
// oldest first (then by serial), each with its journal entry; at most limit
// of them when limit > 0. A movement is listed whole: the caller cuts it to
// the range.
func (d *DB) RangeHistory(ctx context.Context, issuance, start, end int64, limit int) ([]ledger.Movement, []ledger.Entry, error) {
	args := make([]any, 0, 4*(maxSpanLevel+1)+3)
	for level := 0; level <= maxSpanLevel; level++ {
		lo := max(1, start-(int64(1)<<level)+1)
		args = append(args, issuance, lo, end, start)
	}
	args = append(args, issuance, end, start)
	query := rangeHistoryQuery
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := d.rq.QueryContext(ctx, d.q(query), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: serial history: %w", err)
	}
	var ms []ledger.Movement
	var es []ledger.Entry
	for rows.Next() {
		var m ledger.Movement
		var e ledger.Entry
		var fs, ts, at string
		if err := rows.Scan(&m.Seq, &m.Issuance, &m.Start, &m.End, &m.FromAccount, &m.ToAccount, &fs, &ts,
			&e.Seq, &at, &e.Kind, &e.Actor, &e.IdemKey, &e.RequestHash, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: serial history: %w", err)
		}
		m.FromState, m.ToState, e.At = ledger.State(fs), ledger.State(ts), parseTime(at)
		ms = append(ms, m)
		es = append(es, e)
	}
	return ms, es, closeRows(rows)
}

// Token returns the token with the given hash.
func (d *DB) Token(ctx context.Context, hash string) (ledger.Token, bool, error) {
	var t ledger.Token
	if !storable(hash) {
		return t, false, nil
	}
	var role, at string
	err := d.rq.QueryRowContext(ctx, d.q(`SELECT hash, org_id, role, name, created_at FROM tokens WHERE hash = ?`), hash).Scan(&t.Hash, &t.OrgID, &role, &t.Name, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("store: read token: %w", err)
	}
	t.Role, t.CreatedAt = ledger.Role(role), parseTime(at)
	return t, true, nil
}

// Meta returns a node setting ("" when unset, and for a key that cannot be
// stored).
func (d *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	if !storable(key) {
		return "", nil
	}
	err := d.rq.QueryRowContext(ctx, d.q(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a node setting. Text that is not valid UTF-8 or holds a
// NUL byte is refused with a *TextError (ErrInvalidText).
func (d *DB) SetMeta(ctx context.Context, key, value string) error {
	if err := checkRow("meta", "key, value", []any{key, value}); err != nil {
		return err
	}
	_, err := d.rq.ExecContext(ctx, d.q(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`), key, value)
	if err != nil {
		return fmt.Errorf("store: write meta %s: %w", key, err)
	}
	return nil
}

// Entry returns the journal entry with sequence number seq.
func (d *DB) Entry(ctx context.Context, seq int64) (ledger.Entry, bool, error) {
	e, err := scanEntry(d.rq.QueryRowContext(ctx, d.q(`SELECT `+entryCols+` FROM journal WHERE seq = ?`), seq))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("store: read journal entry %d: %w", seq, err)
	}
	return e, true, nil
}

// FirstFinalMove returns a movement out of a final state (retired,
// cancelled, exported), which must never exist. The one exception is an
// import (registry/crossborder.go): units that come back from another
// registry move from exported (not in this registry) to held.
func (d *DB) FirstFinalMove(ctx context.Context) (ledger.Movement, bool, error) {
	return d.firstMovement(ctx, `from_state IN ('retired', 'cancelled', 'exported')
		AND NOT (from_state = 'exported' AND to_state = 'held' AND seq IN (SELECT seq FROM journal WHERE kind = 'import'))`)
}

// FirstOrphanMovement returns a movement whose journal entry does not
// exist, which must never be: the store writes a movement only with its
// entry (checkMovements), and on PostgreSQL no foreign key checks it
// (migration 0014).
func (d *DB) FirstOrphanMovement(ctx context.Context) (ledger.Movement, bool, error) {
	return d.firstMovement(ctx, `NOT EXISTS (SELECT 1 FROM journal WHERE journal.seq = movements.seq)`)
}

// firstMovement returns the first movement, in sequence order, that where
// (an SQL condition on movements) holds for.
func (d *DB) firstMovement(ctx context.Context, where string) (ledger.Movement, bool, error) {
	var m ledger.Movement
	var fs, ts string
	err := d.rq.QueryRowContext(ctx, `SELECT seq, issuance_id, start_serial, end_serial, from_account, to_account, from_state, to_state
		FROM movements WHERE `+where+` ORDER BY seq LIMIT 1`).
		Scan(&m.Seq, &m.Issuance, &m.Start, &m.End, &m.FromAccount, &m.ToAccount, &fs, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("store: read movements: %w", err)
	}
	m.FromState, m.ToState = ledger.State(fs), ledger.State(ts)
	return m, true, nil
}
