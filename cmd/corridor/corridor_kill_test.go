package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
)

// TestCorridorSIGKILL kills the sender (CN), the hub and the acquirer
// (TH) with SIGKILL, ten times each in turn, while transfers are being
// sent, restarting each from its database. Afterwards every transfer the
// API accepted is final at the hub, none is still active, completed ones
// went 1 2 8 4, the units are conserved (what the hub shows completed is
// what CN exported and TH holds; nothing is left reserved) and verify
// passes on both nodes.
func TestCorridorSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills processes 30 times")
	}
	bin := filepath.Join(t.TempDir(), "corridor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := startCorridor(t, bin, "", []string{"CN", "TH"}, "--retry-max", "1s")
	cn, th := c.nationalAccount("CN"), c.nationalAccount("TH")
	const issued = 100000
	if st, body := c.api("CN").do("POST", "/api/v1/registries/CN/issuances", map[string]any{"standard": "CCER", "unit_type": "CCER", "project": "CCER-14-2024-001",
		"methodology": "CCER-14-001-V01", "host_country": "CN", "vintage": 2024, "quantity": issued, "account_id": cn}, "issue-1"); st/100 != 2 {
		t.Fatalf("issue at CN: %d %v", st, body)
	}
	if st, body := c.api("CN").do("POST", "/api/v1/registries/CN/transfers/cross-border", map[string]any{"from_account": cn, "to_registry": "TH", "to_account": th, "quantity": 1, "unit_type": "CCER"}, "probe"); st/100 != 2 {
		t.Fatalf("probe transfer CN → TH: %d %v", st, body)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var mu sync.Mutex
	var ids []string
	victims := []string{"CN", "HUB", "TH"}
	const rounds = 30
	for r := range rounds {
		var wg sync.WaitGroup
		for k := range 3 {
			qty := 1 + rng.IntN(40)
			wg.Go(func() {
				st, body := c.api("CN").doErr("POST", "/api/v1/registries/CN/transfers/cross-border", map[string]any{"from_account": cn, "to_registry": "TH",
					"to_account": th, "quantity": qty, "unit_type": "CCER"}, fmt.Sprintf("k-%d-%d", r, k))
				if st == 202 || st == 200 || st == 201 {
					mu.Lock()
					ids = append(ids, body["id"].(string))
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		v := victims[r%len(victims)]
		c.kill(v)
		wg.Wait()
		c.start(v)
	}
	if len(ids) < rounds {
		t.Fatalf("only %d transfers accepted in %d rounds", len(ids), rounds)
	}

	// Heal: wait until the hub has nothing active and CN nothing reserved.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		active := c.hubTransfers("?active=true")
		if len(active) == 0 && c.balance("CN", cn, "reserved") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the kills: %d transfers still active at the hub, %d units reserved at CN", len(active), c.balance("CN", cn, "reserved"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	all := c.hubTransfers("")
	var completed int64
	byID := map[string]hub.Transfer{}
	for _, tr := range all {
		byID[tr.ID] = tr
		switch tr.Status {
		case protocol.StatusCompleted:
			completed += tr.Proposal.Quantity
			if got := tr.Statuses(); !slices.Equal(got, []protocol.Status{1, 2, 8, 4}) {
				t.Errorf("%s completed through %v", tr.ID, got)
			}
		case protocol.StatusTerminated, protocol.StatusCancelled:
		default:
			t.Errorf("%s ends at %s", tr.ID, tr.Status)
		}
	}
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			t.Errorf("transfer %s accepted by CN's API is unknown to the hub", id)
		}
	}
	// The TH import runs after 4: wait for it to land.
	for deadline := time.Now().Add(time.Minute); c.balance("TH", th, "held") != completed && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	exported, cnHeld, thHeld := c.balance("CN", cn, "exported"), c.balance("CN", cn, "held"), c.balance("TH", th, "held")
	t.Logf("%d transfers (%d accepted by the API), %d units completed; CN held %d exported %d, TH held %d", len(all), len(ids), completed, cnHeld, exported, thHeld)
	if exported != completed || thHeld != completed || cnHeld+exported != issued {
		t.Fatalf("conservation: hub completed %d, CN exported %d held %d (issued %d), TH held %d", completed, exported, cnHeld, issued, thHeld)
	}
	c.verifyAll()
}

func (c *procCorridor) hubTransfers(query string) []hub.Transfer {
	c.t.Helper()
	resp, err := c.httpc.Get(c.hubURL + "/hub/v1/transfers" + query)
	if err != nil {
		c.t.Fatalf("hub transfers: %v", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Transfers []hub.Transfer `json:"transfers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		c.t.Fatalf("hub transfers: %v", err)
	}
	return doc.Transfers
}

// balance is the quantity in state of account acc at registry code.
func (c *procCorridor) balance(code string, acc int64, state string) int64 {
	c.t.Helper()
	st, body := c.api(code).do("GET", fmt.Sprintf("/api/v1/registries/%s/accounts/%d", code, acc), nil, "")
	if st != 200 {
		c.t.Fatalf("%s account %d: %d %v", code, acc, st, body)
	}
	var q int64
	bs, _ := body["balances"].([]any)
	for _, b := range bs {
		m := b.(map[string]any)
		if m["state"] == state {
			q += int64(m["quantity"].(float64))
		}
	}
	return q
}
