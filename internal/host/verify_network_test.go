package host

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestVerifyCorridorNetworkHub: verify --corridor finds a hub process's
// database (network-hub.db, schema network_hub) as it finds the embedded
// corridor's: the corridor's hub database moved there is checked, and a
// hub record deleted from it is a "network hub:" violation.
func TestVerifyCorridorNetworkHub(t *testing.T) {
	eachStorage(t, func(t *testing.T, s Storage) {
		ctx := context.Background()
		txs := corridorStorage(t, s)
		if s.DatabaseURL == "" {
			if err := os.Rename(filepath.Join(s.DataDir, "hub.db"), s.NetworkHubStore().Path); err != nil {
				t.Fatal(err)
			}
		} else {
			db, err := sql.Open("pgx", s.DatabaseURL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(`ALTER SCHEMA corridor_hub RENAME TO network_hub`)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		rep, err := VerifyCorridor(ctx, s)
		if err != nil || !rep.OK() || !rep.Hub || len(rep.HubDatabases) != 1 || !strings.Contains(rep.HubDatabases[0], "network") {
			t.Fatalf("corridor with a network hub's database: %+v %v", rep, err)
		}
		execOn(t, s.NetworkHubStore(), `DELETE FROM hub_events WHERE body LIKE ?`, `%"`+txs[0]+`"%`)
		rep, err = VerifyCorridor(ctx, s)
		if err != nil || rep.OK() || !slices.ContainsFunc(rep.Violations, func(v string) bool { return strings.HasPrefix(v, "network hub: TH: reconcile_unexpected") }) {
			t.Fatalf("network hub record deleted: %+v %v", rep, err)
		}
	})
}
