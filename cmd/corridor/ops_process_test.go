package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeWithoutHub runs a hub and the CN and TH nodes as processes;
// then the hub stops and CN restarts without it: CN starts from the trust
// list it saved, serves its own reads and writes, reports the hub link
// down and the transfer it cannot send as backlog at /readyz and /metrics;
// when the hub is back, the transfer completes and the link reads up with
// no backlog.
func TestNodeWithoutHub(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts processes")
	}
	bin := filepath.Join(t.TempDir(), "corridor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// bootstrap prints the national holding account it opened.
	if out := runBin(t, bin, "bootstrap", "--registry", "VN", "--org-name", "VN admin", "--country", "VN", "--data-dir", t.TempDir()); !strings.Contains(out, "national holding account 1, admin token:") {
		t.Fatalf("bootstrap printed %q", out)
	}
	c := startCorridor(t, bin, "", []string{"CN", "TH"})
	ready := func(code string) (int, map[string]any) {
		t.Helper()
		resp, err := c.httpc.Get("https://" + c.addrs[code] + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		hubPart, _ := body["hub"].(map[string]any)
		return resp.StatusCode, hubPart
	}
	metrics := func(code string) string {
		t.Helper()
		resp, err := c.httpc.Get("https://" + c.addrs[code] + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return string(raw)
	}
	waitLink := func(code, state string, backlog float64) map[string]any {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, h := ready(code)
			if st == 200 && h["state"] == state && h["backlog"] == backlog {
				return h
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s /readyz: %d hub %v, want state %s backlog %v", code, st, h, state, backlog)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	h := waitLink("CN", "up", 0)
	if h["trust_version"] != 1.0 || h["last_contact"] == nil || h["trust_saved"] != nil {
		t.Fatalf("CN hub link %v", h)
	}
	if m := metrics("CN"); !strings.Contains(m, "corridor_hub_link_up 1") || !strings.Contains(m, `corridor_hub_outbox_backlog{acknowledged="false"} 0`) {
		t.Fatalf("CN metrics:\n%s", grepLines(m, "corridor_hub_"))
	}
	saved := filepath.Join(c.stores["CN"][1], "registries", "CN.trust.jws")
	if _, err := os.Stat(saved); err != nil {
		t.Fatalf("the trust list was not saved: %v", err)
	}

	// The hub goes down; CN restarts without it. Each says it is shutting
	// down on SIGTERM.
	c.procs["HUB"].stop(t)
	c.procs["CN"].stop(t)
	for _, code := range []string{"HUB", "CN"} {
		if !strings.Contains(c.procs[code].log.String(), "corridor shutting down") {
			t.Errorf("%s logged no shutdown on SIGTERM:\n%s", code, c.procs[code].log.String())
		}
	}
	c.start("CN")
	h = waitLink("CN", "down", 0)
	if h["trust_saved"] != true || h["trust_version"] != 1.0 {
		t.Fatalf("CN hub link after a restart without the hub: %v", h)
	}
	acc := map[string]int64{"CN": c.nationalAccount("CN"), "TH": c.nationalAccount("TH")}
	st, body := c.api("CN").do("POST", "/api/v1/registries/CN/issuances", map[string]any{"standard": "CCER", "unit_type": "CCER", "project": "CCER-14-2024-001",
		"methodology": "CCER-14-001-V01", "host_country": "CN", "vintage": 2024, "quantity": 100, "account_id": acc["CN"]}, "issue-down")
	if st/100 != 2 {
		t.Fatalf("issue at CN without the hub: %d %v", st, body)
	}
	st, body = c.api("CN").do("POST", "/api/v1/registries/CN/transfers/cross-border", map[string]any{"from_account": acc["CN"], "to_registry": "TH",
		"to_account": acc["TH"], "quantity": 40, "unit_type": "CCER", "purpose": "voluntary"}, "x-down")
	if st != http.StatusAccepted {
		t.Fatalf("transfer abroad without the hub: %d %v", st, body)
	}
	id, _ := body["id"].(string)
	h = waitLink("CN", "down", 1)
	if h["unacknowledged"] != 1.0 || h["reason"] != "unreachable" {
		t.Fatalf("CN hub link with a transfer waiting: %v", h)
	}
	if m := metrics("CN"); !strings.Contains(m, "corridor_hub_link_up 0") || !strings.Contains(m, `corridor_hub_outbox_backlog{acknowledged="false"} 1`) {
		t.Fatalf("CN metrics with the hub down:\n%s", grepLines(m, "corridor_hub_"))
	}

	// The transfer the hub has not received is shown with its state at CN.
	show := exec.Command(bin, "transfers", "show", id, "--server", "https://"+c.addrs["CN"], "--tls-ca", c.p.ca, "--tls-cert", c.p.clientCert, "--tls-key", c.p.clientKey)
	if out, err := show.CombinedOutput(); err != nil || !strings.Contains(string(out), "at CN   reserved and sent, not yet acknowledged by the hub") || !strings.Contains(string(out), "units    40 CCER") {
		t.Fatalf("transfers show %s with the hub down: %v\n%s", id, err, out)
	}
	st, body = c.api("CN").do("GET", "/api/v1/transfers/"+id, nil, "")
	if st != 200 || body["sender_state"] != "sent_not_acknowledged" {
		t.Fatalf("GET transfer %s with the hub down: %d %v", id, st, body)
	}

	// The hub is back: the transfer completes, the backlog drains.
	c.start("HUB")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if tr, ok := c.hubTransfer(id); ok && tr.Status.Final() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer %s not final at the hub after it came back", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitLink("CN", "up", 0)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
