package host

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
)

// TestNodeBindsBeforeWaitingForTheHub: a node whose address is taken
// fails at once saying so, before it waits for the hub's trust list or
// creates its data directory.
func TestNodeBindsBeforeWaitingForTheHub(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "th.key")
	pub, err := hubhttp.GenerateKeyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := hubhttp.KeyID(pub)
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	data := filepath.Join(dir, "data")
	err = ServeNode(ctx, NodeOptions{Addr: busy.Addr().String(), Code: "TH", Storage: Storage{DataDir: data},
		HubURL: "http://127.0.0.1:1", HubPublicKey: kid + ":" + hubhttp.EncodePublic(pub), KeyFile: key})
	if err == nil || !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
		t.Fatalf("node on a busy address: %v (ctx %v)", err, ctx.Err())
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the node created %s", data)
	}
	if err := ServeNode(ctx, NodeOptions{Addr: "bogus", Code: "TH", HubURL: "http://127.0.0.1:1", HubPublicKey: kid + ":" + hubhttp.EncodePublic(pub), KeyFile: key}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("node on --addr bogus: %v", err)
	}
}
