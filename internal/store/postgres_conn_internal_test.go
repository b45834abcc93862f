package store

import "testing"

// TestPlainOnLoopback: a URL that leaves sslmode to its default (prefer)
// connects to a loopback address without TLS; an sslmode given, PGSSLMODE,
// another host or several hosts keep what libpq's rules make of the URL.
func TestPlainOnLoopback(t *testing.T) {
	tests := []struct {
		url, env string
		tls      bool
	}{
		{"postgres://postgres@127.0.0.1:5432/test", "", false},
		{"postgres://postgres@localhost/test", "", false},
		{"postgres://postgres@[::1]:5432/test", "", false},
		{"host=127.0.0.1 user=postgres dbname=test", "", false},
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=prefer", "", true},
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=require", "", true},
		{"postgres://postgres@127.0.0.1:5432/test", "require", true},
		{"postgres://postgres@db.example.org/test", "", true},
		{"postgres://postgres@127.0.0.1,db.example.org/test", "", true},
	}
	for _, tt := range tests {
		t.Setenv("PGSSLMODE", tt.env)
		cc, err := (&pgDriver{}).connConfig(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := cc.TLSConfig != nil; got != tt.tls {
			t.Errorf("%s (PGSSLMODE %q): TLS %v, want %v", tt.url, tt.env, got, tt.tls)
		}
		if !tt.tls && len(cc.Fallbacks) != 0 {
			t.Errorf("%s: %d fallbacks left", tt.url, len(cc.Fallbacks))
		}
	}
}
