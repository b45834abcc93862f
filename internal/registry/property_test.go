package registry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// model is what the ledger must say, kept independently of it.
type model struct {
	held     map[int64]map[string]int64 // account -> unit type -> held
	final    map[ledger.State]int64     // retired, cancelled, exported totals
	reserved map[int64]int64            // pending -> quantity
	resFrom  map[int64]int64            // pending -> sending account
	resTo    map[int64]int64            // pending -> internal target (0: external)
	issued   int64
}

// TestLedgerStateMachine drives random sequences of issue, transfer (by
// quantity and by serial), retire, cancel, reserve, void, complete, replays,
// rejected requests and restarts, and checks after every step that the
// ledger matches an independent model, and at the end that verify passes.
func TestLedgerStateMachine(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		rapid.Check(t, func(rt *rapid.T) {
			runStateMachine(t, rt, tg.Name)
		})
	})
}

func runStateMachine(t *testing.T, rt *rapid.T, driver string) {
	var tg storetest.Target
	if driver == "postgres" {
		tg = storetest.Postgres(t)
	} else {
		tg = storetest.SQLite(t)
	}
	ctx := context.Background()
	// Each rapid run has its own database, closed when the run ends (not
	// when the whole test does), so runs do not pile up connections.
	db, err := store.Open(ctx, tg.Cfg)
	if err != nil {
		rt.Fatal(err)
	}
	defer db.Close()
	n, err := Open(ctx, db, Options{Code: "CN"})
	if err != nil {
		rt.Fatal(err)
	}
	defer func() { n.Close() }()
	key := 0
	next := func() string { key++; return fmt.Sprintf("k%d", key) }
	org := mustDo(rt, n, system, next(), CreateOrganisation{Name: "O", Country: "CN"}).ID
	holder := Actor{OrgID: org, Role: ledger.RoleHolder}
	var accounts []int64
	for i := 0; i < 4; i++ {
		accounts = append(accounts, mustDo(rt, n, system, next(), OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A"}).ID)
	}
	m := &model{held: map[int64]map[string]int64{}, final: map[ledger.State]int64{}, reserved: map[int64]int64{}, resFrom: map[int64]int64{}, resTo: map[int64]int64{}}
	for _, a := range accounts {
		m.held[a] = map[string]int64{}
	}
	unitTypes := []string{"CCER", "TVER"}
	type done struct {
		key string
		req Request
		res Result
	}
	var history []done
	record := func(k string, req Request, res Result) { history = append(history, done{k, req, res}) }
	acct := func(rt *rapid.T, label string) int64 { return rapid.SampledFrom(accounts).Draw(rt, label) }
	unit := func(rt *rapid.T) string { return rapid.SampledFrom(unitTypes).Draw(rt, "unit") }

	rt.Repeat(map[string]func(*rapid.T){
		"issue": func(rt *rapid.T) {
			to, ut := acct(rt, "to"), unit(rt)
			q := rapid.Int64Range(1, 1000).Draw(rt, "q")
			k := next()
			req := Issue{Standard: ut, UnitType: ut, Project: "P-" + ut, HostCountry: "CN", Vintage: rapid.IntRange(2021, 2025).Draw(rt, "vintage"), Quantity: q, AccountID: to}
			record(k, req, mustDo(rt, n, system, k, req))
			m.held[to][ut] += q
			m.issued += q
		},
		"transfer": func(rt *rapid.T) {
			from, to, ut := acct(rt, "from"), acct(rt, "to"), unit(rt)
			q := rapid.Int64Range(1, 300).Draw(rt, "q")
			k := next()
			req := Transfer{From: from, To: to, Units: Units{Quantity: q, UnitType: ut}}
			res, err := n.Do(ctx, holder, k, req)
			switch {
			case from == to:
				expectCode(rt, err, ledger.CodeSameAccount)
			case q > m.held[from][ut]:
				expectCode(rt, err, ledger.CodeInsufficientUnits)
			default:
				if err != nil {
					rt.Fatalf("transfer: %v", err)
				}
				record(k, req, res)
				m.held[from][ut] -= q
				m.held[to][ut] += q
			}
		},
		"transferSerials": func(rt *rapid.T) {
			from, to := acct(rt, "from"), acct(rt, "to")
			blocks, _ := n.Holdings(from, 0, 50)
			var heldBlocks []BlockView
			for _, b := range blocks {
				if b.State == ledger.Held {
					heldBlocks = append(heldBlocks, b)
				}
			}
			if len(heldBlocks) == 0 || from == to {
				return
			}
			b := rapid.SampledFrom(heldBlocks).Draw(rt, "block")
			lo := rapid.Int64Range(b.Start, b.End).Draw(rt, "lo")
			hi := rapid.Int64Range(lo, b.End).Draw(rt, "hi")
			s, _ := ledger.ParseSerial(b.Serial)
			s.Start, s.End = lo, hi
			k := next()
			req := Transfer{From: from, To: to, Units: Units{Serials: []string{s.String()}}}
			res := mustDo(rt, n, holder, k, req)
			record(k, req, res)
			ut := s.UnitType
			m.held[from][ut] -= hi - lo + 1
			m.held[to][ut] += hi - lo + 1
		},
		"retireOrCancel": func(rt *rapid.T) {
			from, ut := acct(rt, "from"), unit(rt)
			q := rapid.Int64Range(1, 200).Draw(rt, "q")
			retire := rapid.Bool().Draw(rt, "retire")
			var req Request = Cancel{From: from, Units: Units{Quantity: q, UnitType: ut}}
			state := ledger.Cancelled
			if retire {
				req, state = Retire{From: from, Units: Units{Quantity: q, UnitType: ut}, Beneficiary: "B", Purpose: "voluntary"}, ledger.Retired
			}
			k := next()
			res, err := n.Do(ctx, holder, k, req)
			if q > m.held[from][ut] {
				expectCode(rt, err, ledger.CodeInsufficientUnits)
				return
			}
			if err != nil {
				rt.Fatalf("%s: %v", req.Kind(), err)
			}
			record(k, req, res)
			m.held[from][ut] -= q
			m.final[state] += q
		},
		"reserve": func(rt *rapid.T) {
			from, ut := acct(rt, "from"), unit(rt)
			q := rapid.Int64Range(1, 200).Draw(rt, "q")
			req := Reserve{From: from, Units: Units{Quantity: q, UnitType: ut}, ToRegistry: "TH", ToAccountRef: "x"}
			var to int64
			if rapid.Bool().Draw(rt, "internal") {
				to = acct(rt, "to")
				if to == from {
					return
				}
				req = Reserve{From: from, Units: Units{Quantity: q, UnitType: ut}, ToAccount: to}
			}
			k := next()
			res, err := n.Do(ctx, holder, k, req)
			if q > m.held[from][ut] {
				expectCode(rt, err, ledger.CodeInsufficientUnits)
				return
			}
			if err != nil {
				rt.Fatalf("reserve: %v", err)
			}
			record(k, req, res)
			m.held[from][ut] -= q
			m.reserved[res.Pending], m.resFrom[res.Pending], m.resTo[res.Pending] = q, from, to
			m.final[ledger.Reserved] += q
			_ = ut
		},
		"settle": func(rt *rapid.T) {
			if len(m.reserved) == 0 {
				return
			}
			var ids []int64
			for id := range m.reserved {
				ids = append(ids, id)
			}
			id := rapid.SampledFrom(sortedIDs(ids)).Draw(rt, "pending")
			complete := rapid.Bool().Draw(rt, "complete")
			var req Request = Void{Pending: id}
			if complete {
				req = Complete{Pending: id}
			}
			k := next()
			res := mustDo(rt, n, system, k, req)
			record(k, req, res)
			q := m.reserved[id]
			m.final[ledger.Reserved] -= q
			ut := "?"
			if len(res.Blocks) > 0 {
				ut = issuanceUnitType(n, res.Blocks[0].IssuanceID)
			}
			switch {
			case !complete:
				m.held[m.resFrom[id]][ut] += q
			case m.resTo[id] != 0:
				m.held[m.resTo[id]][ut] += q
			default:
				m.final[ledger.Exported] += q
			}
			delete(m.reserved, id)
			// Settling twice is refused.
			expectCode(rt, second(n.Do(ctx, system, next(), req)), ledger.CodeDuplicate)
		},
		"replay": func(rt *rapid.T) {
			if len(history) == 0 {
				return
			}
			h := rapid.SampledFrom(history).Draw(rt, "earlier")
			actor := holder
			switch h.req.(type) {
			case Issue, Complete, Void:
				actor = system
			}
			res, err := n.Do(ctx, actor, h.key, h.req)
			if err != nil || !res.Replayed || res.Seq != h.res.Seq || res.Quantity != h.res.Quantity {
				rt.Fatalf("replay of %s: %+v %v (first %+v)", h.key, res, err, h.res)
			}
		},
		"restart": func(rt *rapid.T) {
			n.Close()
			var err error
			if n, err = Open(ctx, db, Options{Code: "CN"}); err != nil {
				rt.Fatal(err)
			}
		},
		"": func(rt *rapid.T) {
			tot := n.Totals()
			if tot.Issued != m.issued {
				rt.Fatalf("issued %d, model %d", tot.Issued, m.issued)
			}
			var sum int64
			for _, s := range ledger.States {
				sum += tot.ByState[s]
			}
			if sum != tot.Issued {
				rt.Fatalf("conservation: states sum to %d, issued %d", sum, tot.Issued)
			}
			for _, s := range []ledger.State{ledger.Retired, ledger.Cancelled, ledger.Exported, ledger.Reserved} {
				if tot.ByState[s] != m.final[s] {
					rt.Fatalf("%s = %d, model %d", s, tot.ByState[s], m.final[s])
				}
			}
			for _, a := range accounts {
				v, _ := n.Account(a)
				got := map[string]int64{}
				for _, b := range v.Balances {
					if b.State == ledger.Held {
						got[b.UnitType] = b.Quantity
					}
				}
				for _, ut := range unitTypes {
					if got[ut] != m.held[a][ut] {
						rt.Fatalf("account %d holds %d %s, model %d", a, got[ut], ut, m.held[a][ut])
					}
				}
			}
		},
	})
	rep, err := Verify(ctx, db)
	if err != nil || !rep.OK() {
		rt.Fatalf("verify: %v %v", err, rep.Violations)
	}
}

func issuanceUnitType(n *Node, id int64) string {
	v, _ := n.Issuance(id)
	return v.UnitType
}

func second(_ Result, err error) error { return err }

func sortedIDs(ids []int64) []int64 {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

func mustDo(rt *rapid.T, n *Node, a Actor, key string, req Request) Result {
	res, err := n.Do(context.Background(), a, key, req)
	if err != nil {
		rt.Fatalf("%s: %v", req.Kind(), err)
	}
	return res
}

func expectCode(rt *rapid.T, err error, code string) {
	if e, ok := ledger.AsError(err); !ok || e.Code != code {
		rt.Fatalf("got %v, want %s", err, code)
	}
}

// TestConcurrentTransfers runs 32 goroutines transferring among the same 8
// accounts for a few seconds; afterwards verify passes and the balances sum
// to what was issued.
func TestConcurrentTransfers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		n := openNode(t, tg)
		org := mustDoT(t, n, system, "org", CreateOrganisation{Name: "O", Country: "CN"}).ID
		holder := Actor{OrgID: org, Role: ledger.RoleHolder}
		var accounts []int64
		for i := 0; i < 8; i++ {
			a := mustDoT(t, n, system, fmt.Sprintf("acc%d", i), OpenAccount{OrgID: org, Type: ledger.Holding, Name: "A"}).ID
			accounts = append(accounts, a)
			mustDoT(t, n, system, fmt.Sprintf("iss%d", i), Issue{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 10_000, AccountID: a})
		}
		deadline := time.Now().Add(3 * time.Second)
		var wg sync.WaitGroup
		var ok, rejected atomic.Int64
		for g := 0; g < 32; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					from, to := accounts[(g+i)%8], accounts[(g*7+i*3+1)%8]
					if from == to {
						continue
					}
					req := Transfer{From: from, To: to, Units: Units{Quantity: int64(1 + (g*31+i)%200), UnitType: "CCER"}}
					if i%5 == 0 {
						req = Transfer{From: from, To: to, Units: Units{Serials: []string{fmt.Sprintf("CN-CCER-P-2024-%d-%d-%d", 1+(g+i)%8, 1+i%9000, 1+i%9000+g)}}}
					}
					_, err := n.Do(ctx, holder, fmt.Sprintf("g%d-%d", g, i), req)
					if err == nil {
						ok.Add(1)
					} else if _, isRule := ledger.AsError(err); isRule {
						rejected.Add(1)
					} else {
						t.Errorf("transfer: %v", err)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		t.Logf("%s: %d transfers committed, %d rejected by rules", tg.Name, ok.Load(), rejected.Load())
		if ok.Load() < 100 {
			t.Fatalf("only %d transfers went through", ok.Load())
		}
		var sum int64
		for _, a := range accounts {
			sum += held(t, n, a)
		}
		if sum != 80_000 {
			t.Fatalf("balances sum to %d, issued 80000", sum)
		}
		rep := verifyOK(t, n)
		if rep.Entries < ok.Load() {
			t.Fatalf("journal has %d entries for %d committed transfers", rep.Entries, ok.Load())
		}
	})
}

func mustDoT(t *testing.T, n *Node, a Actor, key string, req Request) Result {
	t.Helper()
	res, err := n.Do(context.Background(), a, key, req)
	if err != nil {
		t.Fatalf("%s: %v", req.Kind(), err)
	}
	return res
}

// TestTwoWritersOneDatabase runs two nodes (as two server processes would)
// on one database: every commit either lands on the current journal head or
// is retried on fresh state, so no update is lost.
func TestTwoWritersOneDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		a := openSharedNode(t, tg)
		org := mustDoT(t, a, system, "org", CreateOrganisation{Name: "O", Country: "CN"}).ID
		holder := Actor{OrgID: org, Role: ledger.RoleHolder}
		acc1 := mustDoT(t, a, system, "a1", OpenAccount{OrgID: org, Type: ledger.Holding, Name: "1"}).ID
		acc2 := mustDoT(t, a, system, "a2", OpenAccount{OrgID: org, Type: ledger.Holding, Name: "2"}).ID
		mustDoT(t, a, system, "iss", Issue{Standard: "CCER", UnitType: "CCER", Project: "P", HostCountry: "CN", Vintage: 2024, Quantity: 1000, AccountID: acc1})
		b := openSharedNode(t, tg)
		var wg sync.WaitGroup
		var moved atomic.Int64
		for w, n := range []*Node{a, b} {
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 25; i++ {
						_, err := n.Do(ctx, holder, fmt.Sprintf("w%d-g%d-%d", w, g, i), Transfer{From: acc1, To: acc2, Units: Units{Quantity: 1, UnitType: "CCER"}})
						if err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
						moved.Add(1)
					}
				}()
			}
		}
		wg.Wait()
		c := openSharedNode(t, tg) // a fresh view of the database
		if got := held(t, c, acc2); got != moved.Load() || held(t, c, acc1) != 1000-moved.Load() {
			t.Fatalf("acc2 holds %d after %d acknowledged transfers of 1 unit", got, moved.Load())
		}
		verifyOK(t, c)
	})
}
