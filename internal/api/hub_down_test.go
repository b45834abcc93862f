package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// downLink is a corridor whose hub does not answer.
type downLink struct{}

var errHubDown = errors.New("hub: connection refused")

func (downLink) Send(context.Context, string, hub.Send) (hub.Sent, error) {
	return hub.Sent{}, errHubDown
}
func (downLink) Transfer(context.Context, string) (hub.Transfer, error) {
	return hub.Transfer{}, errHubDown
}
func (downLink) Transfers(context.Context, hub.TransferFilter) ([]hub.Transfer, error) {
	return nil, errHubDown
}
func (downLink) Participants(context.Context) ([]hub.Participant, error) { return nil, errHubDown }

// TestHubDownAdvice: with the hub down, reads and writes are answered 503
// hub_unavailable, and only a write is told to retry with the same
// Idempotency-Key (a read has none; before, reads got that advice too).
func TestHubDownAdvice(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	w.srv = httptest.NewServer(api.New(w.node).WithLink(downLink{}).Handler())
	t.Cleanup(w.srv.Close)
	for _, path := range []string{"/api/v1/transfers", "/api/v1/transfers/CN:1", "/api/v1/registries"} {
		st, m, h := w.raw(t, "GET", path, w.tokens["holder"], "", "")
		if st != 503 || m["code"] != "hub_unavailable" || h.Get("Retry-After") == "" {
			t.Errorf("GET %s with the hub down: %d %v, want 503 hub_unavailable with Retry-After", path, st, m)
		}
		if d := fmt.Sprint(m["detail"]); strings.Contains(d, "Idempotency-Key") {
			t.Errorf("GET %s: the read is told about an Idempotency-Key: %s", path, d)
		}
	}
	body := fmt.Sprintf(`{"from_account":%d,"to_registry":"TH","to_account":2,"quantity":1,"unit_type":"CCER"}`, w.account)
	st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers/cross-border", w.tokens["holder"], "down-1", body)
	if st != 503 || m["code"] != "hub_unavailable" || !strings.Contains(fmt.Sprint(m["detail"]), "same Idempotency-Key") {
		t.Errorf("send with the hub down: %d %v, want 503 hub_unavailable advising the same Idempotency-Key", st, m)
	}
}
