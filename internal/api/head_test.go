package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// TestSignedHead fetches the head and key over HTTP as an anonymous client,
// checks the signature and that the head was recorded before it was
// answered, and that a node reopened on a journal cut below that head
// refuses to sign one.
func TestSignedHead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, tg storetest.Target) {
		ctx := context.Background()
		w := newWorld(t, tg)
		get := func(srv *httptest.Server, path string, v any) int {
			t.Helper()
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode
		}
		var h ledger.SignedHead
		if code := get(w.srv, "/api/v1/registries/CN/head", &h); code != 200 {
			t.Fatalf("head: status %d", code)
		}
		var k registry.PublicKey
		if code := get(w.srv, "/api/v1/registries/CN/key", &k); code != 200 {
			t.Fatalf("key: status %d", code)
		}
		pub, err := k.Ed25519()
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Verify(pub); err != nil {
			t.Fatalf("head from the API does not verify with the key from the API: %v", err)
		}
		db := w.node.DB()
		last, err := db.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Registry != "CN" || h.Seq != last.Seq || h.Hash != last.Hash || k.KID != h.KID {
			t.Fatalf("head %+v, key %s; journal head %d:%s", h, k.KID, last.Seq, last.Hash)
		}
		rec, found, err := db.LatestPublishedHead(ctx)
		if err != nil || !found || rec.Seq != h.Seq || rec.Signature != h.Signature {
			t.Fatalf("recorded %+v (%v, %v); answered %+v", rec, found, err, h)
		}
		var p map[string]any
		if code := get(w.srv, "/api/v1/registries/XX/head", &p); code != 404 || p["code"] != "registry_not_found" {
			t.Fatalf("unknown registry: %d %v", code, p)
		}

		w.node.Close()
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM movements WHERE seq = ?`), last.Seq); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(`DELETE FROM journal WHERE seq = ?`), last.Seq); err != nil {
			t.Fatal(err)
		}
		n2, err := registry.Open(ctx, db, registry.Options{Code: "CN"})
		if err != nil {
			t.Fatal(err)
		}
		defer n2.Close()
		srv2 := httptest.NewServer(api.New(n2).Handler())
		defer srv2.Close()
		p = nil
		if code := get(srv2, "/api/v1/registries/CN/head", &p); code != 500 || p["code"] != "journal_below_published_head" {
			t.Fatalf("head over a cut journal: %d %v", code, p)
		}
	})
}
