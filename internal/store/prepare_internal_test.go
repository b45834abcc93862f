package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
)

// growBatch appends n transactions' rows (an entry, a movement, a
// rejection, and every third an organisation, an issuance and a token) to
// b, numbered from b's length on.
func growBatch(b *Batch, n int) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for range n {
		i := int64(len(b.Entries) + 1)
		b.Entries = append(b.Entries, ledger.Entry{Seq: i, At: at, Kind: "transfer", Actor: "holder:1", IdemKey: fmt.Sprintf("k%d", i), RequestHash: "rh", Body: "{}", PrevHash: "p", Hash: fmt.Sprintf("h%d", i)})
		b.Movements = append(b.Movements, ledger.Movement{Seq: i, Issuance: 1, Start: i, End: i + 3, FromAccount: 1, ToAccount: 2, FromState: ledger.Held, ToState: ledger.Held})
		b.Rejections = append(b.Rejections, Rejection{Key: fmt.Sprintf("r%d", i), RequestHash: "rh", AfterSeq: i, At: at, Body: "{}"})
		if i%3 == 0 {
			b.Orgs = append(b.Orgs, ledger.Organisation{ID: i, Name: "o", Country: "SG", CreatedAt: at})
			b.Issuances = append(b.Issuances, ledger.Issuance{ID: i, Standard: "S", UnitType: "BU", Project: "P", Quantity: 5, AccountID: 1, Seq: i, CreatedAt: at})
			b.Tokens = append(b.Tokens, ledger.Token{Hash: fmt.Sprintf("t%d", i), OrgID: 1, Role: ledger.RoleHolder, Name: "t", CreatedAt: at})
		}
	}
	b.Accounts = []ledger.Account{{ID: 1, OrgID: 1, Type: ledger.Holding, Status: ledger.Open, Name: "a", CreatedAt: at}}
	b.PutBlocks = []ledger.Block{{Issuance: 1, Start: 1, End: int64(len(b.Entries)), Account: 2, State: ledger.Held}}
	b.DeleteBlocks = []ledger.Block{{Issuance: 1, Start: int64(len(b.Entries) + 1)}}
}

// TestPreparedBatchPlansAsFresh: a batch prepared while it grew (Prepare
// after each of several appends, as the writer does) is planned to the
// very writes of the same batch never prepared, and a value no driver
// stores is still refused when it was in a prepared row.
func TestPreparedBatchPlansAsFresh(t *testing.T) {
	t.Parallel()
	var fresh, prepared Batch
	for _, n := range []int{1, 4, 0, 7, 2} {
		growBatch(&fresh, n)
		growBatch(&prepared, n)
		prepared.Prepare()
	}
	growBatch(&fresh, 3) // and some rows appended after the last Prepare
	growBatch(&prepared, 3)
	for _, dl := range []Dialect{SQLite, Postgres} {
		want, got := planBatch(&fresh, dl), planBatch(&prepared, dl)
		if want.err != nil || got.err != nil {
			t.Fatalf("%s: plan errors: fresh %v, prepared %v", dl, want.err, got.err)
		}
		if len(got.writes) != len(want.writes) {
			t.Fatalf("%s: prepared batch plans %d writes, fresh %d", dl, len(got.writes), len(want.writes))
		}
		for i := range want.writes {
			w, g := want.writes[i], got.writes[i]
			if w.spec != g.spec || w.n != g.n || !reflect.DeepEqual(w.args, g.args) {
				t.Errorf("%s: write %d (%s): prepared plans %d rows %v, fresh %d rows %v", dl, i, w.spec.table, g.n, g.args, w.n, w.args)
			}
		}
		// Planning twice (a retried commit) plans the same again.
		if again := planBatch(&prepared, dl); !reflect.DeepEqual(again.writes, got.writes) {
			t.Errorf("%s: a second plan of the prepared batch differs from the first", dl)
		}
	}

	var bad Batch
	growBatch(&bad, 2)
	bad.Entries[1].Body = "{\"x\":\"\x00\"}"
	bad.Prepare()
	growBatch(&bad, 2)
	if p := planBatch(&bad, Postgres); !errors.Is(p.err, ErrInvalidText) {
		t.Errorf("a NUL byte in a prepared entry planned without error: %v", p.err)
	}
}
