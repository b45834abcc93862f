package api_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestPoisonedCallsIsolated: a 0xFF byte in an Idempotency-Key and a NUL in
// an admin text field are refused up front with 400 naming the field, the
// same on both drivers, and never reach a group commit: 200 valid transfers
// from another organisation sent at the same time all commit.
func TestPoisonedCallsIsolated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		issue := fmt.Sprintf(`{"standard":"CCER","unit_type":"CCER","project":"P-ISO","host_country":"CN","vintage":2025,"quantity":1000,"account_id":%d}`, w.otherAc)
		if st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/issuances", w.tokens["admin"], "iso-issue", issue); st != 201 {
			t.Fatalf("issue: %d %v", st, m)
		}
		before := w.node.Totals()
		orgsBefore, _ := w.node.Organisations(registry.Operator)
		const valid, poison = 200, 40
		var wg sync.WaitGroup
		fails := make(chan string, valid+2*poison)
		for i := range valid {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.otherAc, w.account)
				if st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["other"], fmt.Sprintf("iso-ok-%d", i), body); st != 201 {
					fails <- fmt.Sprintf("valid transfer %d: %d %v", i, st, m)
				}
			}()
		}
		for i := range poison {
			wg.Add(2)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)
				st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/transfers", w.tokens["holder"], fmt.Sprintf("bad-\xff-%d", i), body)
				if st != 400 || m["field"] != "Idempotency-Key" || m["code"] != "idempotency_key_invalid" {
					fails <- fmt.Sprintf("0xFF key: %d %v", st, m)
				}
			}()
			go func() {
				defer wg.Done()
				st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/organisations", w.tokens["admin"], fmt.Sprintf("nul-%d", i), `{"name":"Bad\u0000Org","country":"VN"}`)
				if st != 400 || m["field"] != "name" || m["code"] != "text_invalid" {
					fails <- fmt.Sprintf("NUL name: %d %v", st, m)
				}
			}()
		}
		wg.Wait()
		close(fails)
		for f := range fails {
			t.Error(f)
		}
		after := w.node.Totals()
		orgsAfter, _ := w.node.Organisations(registry.Operator)
		if after.JournalSeq != before.JournalSeq+valid || len(orgsAfter) != len(orgsBefore) {
			t.Fatalf("journal %d -> %d (want +%d), organisations %d -> %d", before.JournalSeq, after.JournalSeq, valid, len(orgsBefore), len(orgsAfter))
		}
		if rep, err := registry.Verify(t.Context(), w.node.DB()); err != nil || !rep.OK() {
			t.Fatalf("verify: %v %v", err, rep.Violations)
		}
	})
}

// TestWriteProtocol: duplicate keys, media type and methods, each answered
// with problem+json and a stable code; the ledger is unchanged.
func TestWriteProtocol(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	before := w.node.Totals()
	tr := "/api/v1/registries/CN/transfers"
	dup := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"},"from_account":4}`, w.account, w.otherAc)
	dupNested := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER","quantity":500}}`, w.account, w.otherAc)
	ok := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)
	send := func(method, path, ctype, key, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.tokens["holder"])
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, c := range []struct {
		name, method, path, ctype, body string
		status                          int
		code, field, allow              string
	}{
		{"duplicate key", "POST", tr, "application/json", dup, 400, "duplicate_key", "from_account", ""},
		{"nested duplicate key", "POST", tr, "application/json", dupNested, 400, "duplicate_key", "units.quantity", ""},
		{"no content type", "POST", tr, "", ok, 415, "unsupported_media_type", "Content-Type", ""},
		{"text/plain", "POST", tr, "text/plain", ok, 415, "unsupported_media_type", "Content-Type", ""},
		{"form", "POST", tr, "application/x-www-form-urlencoded", "from_account=2", 415, "unsupported_media_type", "Content-Type", ""},
		{"path id in the body", "POST", "/api/v1/registries/CN/reservations/5/void", "application/json", `{"pending":7}`, 403, ledger.CodeForbidden, "", ""},
		{"GET on a write", "GET", tr, "", "", 405, "method_not_allowed", "", "POST"},
		{"DELETE on accounts", "DELETE", "/api/v1/registries/CN/accounts", "", "", 405, "method_not_allowed", "", "GET, HEAD, POST"},
		{"PUT on a read", "PUT", "/api/v1/registries/CN/issuances/1", "application/json", "{}", 405, "method_not_allowed", "", "GET, HEAD"},
		{"unknown path", "GET", "/api/v1/registries/CN/nothing", "", "", 404, "not_found", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := send(c.method, c.path, c.ctype, "proto-"+c.name, c.body)
			if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(body, `"code":"`+c.code+`"`) || c.field != "" && !strings.Contains(body, `"field":"`+c.field+`"`) {
				t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if got := resp.Header.Get("Allow"); got != c.allow {
				t.Fatalf("Allow %q, want %q", got, c.allow)
			}
		})
	}
	// An admin naming the path id in the body is told the path carries it.
	st, m, _ := w.raw(t, "POST", "/api/v1/registries/CN/accounts/2/status", w.tokens["admin"], "status-id", `{"account_id":3,"status":"open"}`)
	if st != 400 || m["field"] != "account_id" {
		t.Fatalf("account_id in the body: %d %v", st, m)
	}
	if after := w.node.Totals(); after.JournalSeq != before.JournalSeq {
		t.Fatalf("refused requests changed the journal: %d -> %d", before.JournalSeq, after.JournalSeq)
	}
}

// TestEveryKindReachable: the client submits every kind callers may submit
// through its derived path and body, and the API routes it (the answer is a
// rule's, never 404, 405, 415 or a malformed body).
func TestEveryKindReachable(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	c := client.New(w.srv.URL, w.tokens["admin"])
	for i := range registry.Kinds {
		k := &registry.Kinds[i]
		if k.Route == "" {
			continue
		}
		req := reflect.New(k.Type).Elem().Interface().(registry.Request)
		req = k.WithID(req, 999)
		_, err := c.Submit(t.Context(), "CN", "reach-"+k.Name, req)
		var p *client.Problem
		if err != nil && (!errors.As(err, &p) || p.Status == 404 && p.Code == "not_found" || p.Status == 405 || p.Status == 415 || p.Code == "malformed_json" || p.Code == "duplicate_key" || k.PathID != "" && p.Status == 400 && p.Field == k.PathID) {
			t.Errorf("%s: %v", k.Name, err)
		}
	}
	if _, err := c.Submit(t.Context(), "CN", "reach-expire", registry.Expire{Pending: 1}); err == nil || strings.Contains(err.Error(), "HTTP") {
		t.Errorf("the node-only expire kind was sent over HTTP: %v", err)
	}
}

// TestReservationsRead: GET /reservations lists the escrows the token may
// see, with their authority and expiry: the owner's holder sees its own,
// another holder none, the auditor all.
func TestReservationsRead(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":3,"unit_type":"CCER"},"expires_in":3600}`, w.account, w.otherAc)
	st, res, _ := w.raw(t, "POST", "/api/v1/registries/CN/reservations", w.tokens["holder"], "rsv-read", body)
	if st != 201 || res["expires_at"] == nil || res["authority"].(map[string]any)["role"] != "registry" {
		t.Fatalf("reserve: %d %v", st, res)
	}
	for role, want := range map[string]int{"holder": 1, "other": 0, "auditor": 1} {
		st, m, _ := w.raw(t, "GET", "/api/v1/registries/CN/reservations", w.tokens[role], "", "")
		list, _ := m["reservations"].([]any)
		if st != 200 || len(list) != want {
			t.Errorf("%s: %d, %d reservations, want %d", role, st, len(list), want)
			continue
		}
		if want == 1 {
			e := list[0].(map[string]any)
			if e["pending"] != res["pending"] || e["expires_at"] != res["expires_at"] || e["quantity"] != float64(3) {
				t.Errorf("%s sees %v, reserve said %v", role, e, res)
			}
			if role == "holder" && e["to_account"] != nil {
				t.Errorf("a holder sees another organisation's account number %v", e["to_account"])
			}
		}
	}
}
