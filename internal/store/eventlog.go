package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// LogName names one of the database's append-only logs; each is a table
// made by the migrations (0007_hub_logs.sql).
type LogName string

// The hub's logs.
const (
	// HubEvents: each message the hub acted on, with the transfer record
	// it led to.
	HubEvents LogName = "hub_events"
	// HubReconciliations: one record per reconciliation, keyed by the
	// registry reconciled.
	HubReconciliations LogName = "hub_reconciliations"
	// HubArticle6: the hub's Article 6 facts, in ledger order.
	HubArticle6 LogName = "hub_article6"
)

// logKeys names the key column of each log; "" for a log without keys.
var logKeys = map[LogName]string{
	HubEvents:          "",
	HubReconciliations: "registry",
	HubArticle6:        "",
}

// ErrLogSeq is the error (see LogSeqError) of an Append whose records do
// not continue the log: the first is not head+1 or they are not
// consecutive.
var ErrLogSeq = errors.New("store: log records must continue the log at head+1")

// LogSeqError says which seq an Append was refused at and what the log's
// head was then (Head -1 when the append lost a race for the seq after
// reading the head; read Head again).
type LogSeqError struct {
	Log       LogName
	Seq, Head int64
}

func (e *LogSeqError) Error() string {
	if e.Head < 0 {
		return fmt.Sprintf("store: %s already holds record %d", e.Log, e.Seq)
	}
	return fmt.Sprintf("store: %s is at record %d, so the next is %d, not %d", e.Log, e.Head, e.Head+1, e.Seq)
}

// Is makes errors.Is(err, ErrLogSeq) hold.
func (e *LogSeqError) Is(target error) bool { return target == ErrLogSeq }

// LogRecord is one record of a log.
type LogRecord struct {
	Seq int64
	// Key is the record's key in a keyed log (HubReconciliations: the
	// registry), and empty in the others.
	Key  string
	Body string
}

// Log is one append-only log: records numbered 1, 2, 3… without gaps,
// never changed once written. Appends take turns through the seq: a
// writer whose head is stale is refused and reads again. Reads see the
// database, or the snapshot the DB is a view of.
type Log struct {
	d    *DB
	name LogName
	key  string
	err  error
}

// Log returns the log called name.
func (d *DB) Log(name LogName) *Log {
	key, ok := logKeys[name]
	l := &Log{d: d, name: name, key: key}
	if !ok {
		l.err = fmt.Errorf("store: no log called %q", name)
	}
	return l
}

// cols is the log's column list, in LogRecord's order.
func (l *Log) cols() string {
	if l.key == "" {
		return "seq, body"
	}
	return "seq, " + l.key + ", body"
}

// logTables are the logs' write specs (as planBatch's tables), one per log.
var logTables sync.Map // LogName → *tableSpec

// table is the log's write spec: its columns in LogRecord's order.
func (l *Log) table() *tableSpec {
	if t, ok := logTables.Load(l.name); ok {
		return t.(*tableSpec)
	}
	t := &tableSpec{table: string(l.name), cols: []string{"seq", "body"}, types: []string{"bigint", "text"}}
	if l.key != "" {
		t.cols, t.types = []string{"seq", l.key, "body"}, []string{"bigint", "text", "text"}
	}
	got, _ := logTables.LoadOrStore(l.name, t)
	return got.(*tableSpec)
}

// Head returns the seq of the log's last record, 0 when it is empty.
func (l *Log) Head(ctx context.Context) (int64, error) {
	if l.err != nil {
		return 0, l.err
	}
	head, err := logHead(ctx, l.d.rq, l.name)
	if err != nil {
		return 0, fmt.Errorf("store: read the head of %s: %w", l.name, err)
	}
	return head, nil
}

func logHead(ctx context.Context, q querier, name LogName) (int64, error) {
	var head int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM `+string(name)).Scan(&head)
	return head, err
}

// Append writes recs, in one transaction, as the log's next records: the
// first must be head+1 and the rest follow it one by one, else nothing is
// written and the error is a *LogSeqError (ErrLogSeq). A key is required
// in a keyed log and refused in the others; text no driver stores is a
// *TextError. It answers as WriteTx.Commit does about the commit itself
// (Config.Fault is called at the same points): an error wrapping
// ErrOutcomeUnknown when the records may or may not be there, any other
// error meaning they are not.
func (l *Log) Append(ctx context.Context, recs ...LogRecord) (err error) {
	if l.err != nil {
		return l.err
	}
	if len(recs) == 0 {
		return nil
	}
	var p writePlan
	p.rows(l.table(), len(recs), func(i int, a []any) []any {
		r := recs[i]
		if l.key == "" {
			return append(a, r.Seq, r.Body)
		}
		return append(a, r.Seq, r.Key, r.Body)
	})
	if p.err != nil {
		return p.err
	}
	for i, r := range recs {
		if i > 0 && r.Seq != recs[i-1].Seq+1 {
			return &LogSeqError{Log: l.name, Seq: r.Seq, Head: recs[i-1].Seq}
		}
		if (r.Key == "") != (l.key == "") {
			if l.key == "" {
				return fmt.Errorf("store: %s has no keys, record %d has %q", l.name, r.Seq, r.Key)
			}
			return fmt.Errorf("store: %s record %d needs a %s", l.name, r.Seq, l.key)
		}
	}
	d := l.d
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: append to %s: %w", l.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	head, err := logHead(ctx, tx, l.name)
	if err != nil {
		return fmt.Errorf("store: read the head of %s: %w", l.name, err)
	}
	if recs[0].Seq != head+1 {
		return &LogSeqError{Log: l.name, Seq: recs[0].Seq, Head: head}
	}
	if err := d.drv.exec(ctx, d, tx, p.writes); err != nil {
		if d.drv.isUniqueViolation(err) {
			// Another appender took the seq after the head was read.
			return &LogSeqError{Log: l.name, Seq: recs[0].Seq, Head: -1}
		}
		return fmt.Errorf("store: append to %s: %w", l.name, err)
	}
	if err := d.injectFault(FaultBeforeCommit); err != nil {
		return err
	}
	if err := d.injectFault(FaultDuringCommit); err != nil {
		return outcomeUnknown(err)
	}
	if err := tx.Commit(); err != nil {
		if errors.Is(d.drv.commitError(err), ErrOutcomeUnknown) {
			return outcomeUnknown(fmt.Errorf("store: append to %s: %w", l.name, err))
		}
		return fmt.Errorf("store: append to %s: %w", l.name, err)
	}
	if err := d.injectFault(FaultAfterCommit); err != nil {
		return outcomeUnknown(err)
	}
	return nil
}

// ReadFrom calls fn with each record after seq after, in order, and stops
// at fn's first error, which it returns.
func (l *Log) ReadFrom(ctx context.Context, after int64, fn func(LogRecord) error) error {
	if l.err != nil {
		return l.err
	}
	return l.read(ctx, `seq > ?`, after, fn)
}

// ReadKey calls fn with each record of key, in order, as ReadFrom does. A
// key no driver can store matches nothing.
func (l *Log) ReadKey(ctx context.Context, key string, fn func(LogRecord) error) error {
	if l.err != nil {
		return l.err
	}
	if l.key == "" {
		return fmt.Errorf("store: %s has no keys", l.name)
	}
	if !storable(key) {
		return nil
	}
	return l.read(ctx, l.key+` = ?`, key, fn)
}

func (l *Log) read(ctx context.Context, where string, arg any, fn func(LogRecord) error) error {
	rows, err := l.d.rq.QueryContext(ctx, l.d.q(`SELECT `+l.cols()+` FROM `+string(l.name)+` WHERE `+where+` ORDER BY seq`), arg)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", l.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r LogRecord
		dest := []any{&r.Seq, &r.Key, &r.Body}
		if l.key == "" {
			dest = []any{&r.Seq, &r.Body}
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("store: read %s: %w", l.name, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("store: read %s: %w", l.name, err)
	}
	return nil
}
