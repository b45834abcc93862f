package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConnectionsReused: many concurrent requests through clients made by
// New share a pool that keeps a connection per concurrent request, so a
// second round opens none (http.DefaultClient keeps two per host, and
// reopened connections for the rest).
func TestConnectionsReused(t *testing.T) {
	var opened atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"seq":1}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	const clients = 32
	round := func() {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range clients {
			wg.Go(func() {
				<-start
				c := New(srv.URL, fmt.Sprint("token-", i))
				var out struct{ Seq int }
				if _, err := c.Do(context.Background(), http.MethodGet, "/x", "", nil, &out); err != nil || out.Seq != 1 {
					t.Errorf("request: %v %+v", err, out)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	round()
	first := opened.Load()
	for range 3 {
		round()
	}
	// A round may open fewer than clients connections (a request that
	// ends early hands its connection on), so the next round may open the
	// few it lacked, and a connection whose response was read may still be
	// on its way back to the pool when the next round starts (the
	// transport returns it from its read loop), so that round dials one
	// more. A pool that keeps them opens a few more than clients in all;
	// one that drops idle connections (http.DefaultClient keeps 2 per host)
	// opens about clients per round.
	if all := opened.Load(); all > clients+clients/4 {
		t.Fatalf("%d connections opened over 4 rounds of %d concurrent requests (first round: %d); the pool should keep them", all, clients, first)
	}
}

// TestDoSendsEncodedBodyAsIs: a body already encoded (json.RawMessage, as
// Submit sends) goes out byte for byte with its headers.
func TestDoSendsEncodedBodyAsIs(t *testing.T) {
	body := json.RawMessage(`{"from_account": 2,  "to_account":3}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if string(got) != string(body) || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Idempotency-Key") != "k1" {
			t.Errorf("server got %q with %v", got, r.Header)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"seq":7}`)
	}))
	defer srv.Close()
	var out struct{ Seq int }
	if _, err := New(srv.URL, "tok").Do(context.Background(), http.MethodPost, "/w", "k1", body, &out); err != nil || out.Seq != 7 {
		t.Fatalf("%v %+v", err, out)
	}
}
