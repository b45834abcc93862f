package api_test

import (
	"fmt"
	"testing"

	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestHubAndVenueTokensSettleOnlyTheirEscrows: the administrator creates
// hub and venue tokens bound to an organisation; such a token completes or
// voids exactly the escrows whose authority names it, and may make no other
// write and no private read. An escrow naming an organisation that does not
// exist as its authority is refused (authority_unknown).
func TestHubAndVenueTokensSettleOnlyTheirEscrows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		w := newWorld(t, tg)
		base := "/api/v1/registries/CN"
		post := func(token, key, path, body string, want int) map[string]any {
			t.Helper()
			st, out, _ := w.raw(t, "POST", base+path, token, key, body)
			if st != want {
				t.Fatalf("POST %s %s: %d %v, want %d", path, body, st, out, want)
			}
			return out
		}
		num := func(m map[string]any, k string) int64 { v, _ := m[k].(float64); return int64(v) }
		org := func(name string) int64 {
			return num(post(w.tokens["admin"], "org-"+name, "/organisations", fmt.Sprintf(`{"name":%q,"country":"SG"}`, name), 201), "id")
		}
		hubOrg, venueOrg := org("Corridor Hub"), org("Venue Exchange")
		token := func(role string, orgID int64) string {
			out := post(w.tokens["admin"], "tok-"+role, "/tokens", fmt.Sprintf(`{"organisation_id":%d,"role":%q,"name":"%s desk"}`, orgID, role, role), 201)
			tok, _ := out["token"].(string)
			if tok == "" {
				t.Fatalf("no token for %s: %v", role, out)
			}
			return tok
		}
		hub, venue := token("hub", hubOrg), token("venue", venueOrg)
		post(w.tokens["admin"], "tok-system", "/tokens", fmt.Sprintf(`{"organisation_id":%d,"role":"system","name":"x"}`, hubOrg), 400)
		post(w.tokens["holder"], "tok-by-holder", "/tokens", fmt.Sprintf(`{"organisation_id":%d,"role":"hub","name":"x"}`, hubOrg), 403)

		reserve := func(key, authority string) int64 {
			body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":10,"unit_type":"CCER"}%s}`, w.account, w.otherAc, authority)
			return num(post(w.tokens["holder"], key, "/reservations", body, 201), "pending")
		}
		pReg := reserve("r-reg", "")
		pHub := reserve("r-hub", fmt.Sprintf(`,"authority":{"role":"hub","organisation_id":%d}`, hubOrg))
		pHub2 := reserve("r-hub2", fmt.Sprintf(`,"authority":{"role":"hub","organisation_id":%d}`, hubOrg))
		pVen := reserve("r-ven", fmt.Sprintf(`,"authority":{"role":"venue","organisation_id":%d}`, venueOrg))
		// The hub role names the hub organisation, not the venue's.
		pWrong := reserve("r-wrong", fmt.Sprintf(`,"authority":{"role":"hub","organisation_id":%d}`, venueOrg))

		// An authority organisation that does not exist: nobody could settle it.
		for i, au := range []string{`{"role":"hub","organisation_id":9999}`, `{"role":"venue"}`} {
			body := fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"},"authority":%s}`, w.account, w.otherAc, au)
			if out := post(w.tokens["holder"], fmt.Sprintf("r-unknown-%d", i), "/reservations", body, 422); out["code"] != "authority_unknown" || out["field"] != "authority.organisation_id" {
				t.Fatalf("unknown authority %s: %v", au, out)
			}
		}

		// The hub sees exactly its escrows, with no account numbers.
		st, out, _ := w.raw(t, "GET", base+"/reservations", hub, "", "")
		rows, _ := out["reservations"].([]any)
		if st != 200 || len(rows) != 2 {
			t.Fatalf("hub reservations: %d %v", st, out)
		}
		for _, r := range rows {
			m := r.(map[string]any)
			if p := num(m, "pending"); p != pHub && p != pHub2 || m["from_account"] != nil || m["to_account"] != nil {
				t.Fatalf("hub sees %v", m)
			}
		}
		// Nothing else: other escrows, other writes, private reads.
		for _, p := range []int64{pReg, pVen, pWrong} {
			if out := post(hub, fmt.Sprintf("hub-c-%d", p), fmt.Sprintf("/reservations/%d/complete", p), "", 422); out["code"] != "pending_not_found" {
				t.Fatalf("hub completes %d: %v", p, out)
			}
		}
		for _, p := range []int64{pReg, pHub, pWrong} {
			if out := post(venue, fmt.Sprintf("ven-v-%d", p), fmt.Sprintf("/reservations/%d/void", p), "", 422); out["code"] != "pending_not_found" {
				t.Fatalf("venue voids %d: %v", p, out)
			}
		}
		for i, c := range []struct{ path, body string }{
			{"/transfers", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)},
			{"/reservations", fmt.Sprintf(`{"from_account":%d,"to_account":%d,"units":{"quantity":1,"unit_type":"CCER"}}`, w.account, w.otherAc)},
			{"/tokens", fmt.Sprintf(`{"organisation_id":%d,"role":"admin","name":"x"}`, hubOrg)},
			{"/organisations", `{"name":"x","country":"SG"}`},
		} {
			for _, tok := range []string{hub, venue} {
				post(tok, fmt.Sprintf("w-%d-%s", i, tok[:8]), c.path, c.body, 403)
			}
		}
		for _, path := range []string{"/accounts", fmt.Sprintf("/accounts/%d", w.account), fmt.Sprintf("/accounts/%d/holdings", w.account), "/organisations", "/transactions"} {
			for _, tok := range []string{hub, venue} {
				if st, out, _ := w.raw(t, "GET", base+path, tok, "", ""); st != 403 {
					t.Fatalf("GET %s as hub/venue: %d %v", path, st, out)
				}
			}
		}
		// The in-process hub's keys (its message ids) stay its own: a hub
		// token over HTTP may not take one first.
		if out := post(hub, "hub:msg-1", fmt.Sprintf("/reservations/%d/complete", pHub), "", 400); out["code"] != "idempotency_key_invalid" {
			t.Fatalf("hub token with a hub: key: %v", out)
		}
		// The administrator may not settle the hub's escrow either.
		post(w.tokens["admin"], "adm-c-hub", fmt.Sprintf("/reservations/%d/complete", pHub), "", 403)

		// Each authority settles its own.
		held := w.node.Totals()
		if out := post(hub, "hub-complete", fmt.Sprintf("/reservations/%d/complete", pHub), "", 201); num(out, "pending") != pHub {
			t.Fatalf("hub complete: %v", out)
		}
		post(hub, "hub-void", fmt.Sprintf("/reservations/%d/void", pHub2), "", 201)
		post(venue, "venue-void", fmt.Sprintf("/reservations/%d/void", pVen), "", 201)
		post(w.tokens["admin"], "adm-c-reg", fmt.Sprintf("/reservations/%d/complete", pReg), "", 201)
		if after := w.node.Totals(); after.JournalSeq != held.JournalSeq+4 {
			t.Fatalf("settlements: journal %d -> %d, want 4 entries", held.JournalSeq, after.JournalSeq)
		}
		st, out, _ = w.raw(t, "GET", base+"/reservations", w.tokens["admin"], "", "")
		if rows, _ := out["reservations"].([]any); st != 200 || len(rows) != 1 || num(rows[0].(map[string]any), "pending") != pWrong {
			t.Fatalf("left pending: %d %v", st, out)
		}
	})
}
