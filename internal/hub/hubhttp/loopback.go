package hubhttp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/store"
)

// LoopbackConfig wires a networked corridor inside one process: the hub
// and each node with its own HTTP server on 127.0.0.1, talking exactly as
// separate processes do (the benchmark's HTTP corridor).
type LoopbackConfig struct {
	HubDB      *store.DB
	Members    []hub.Member
	Agreements agreements.Set
	// Dir holds the generated trust file.
	Dir string
	Log *slog.Logger
}

// Loopback is a running loopback corridor.
type Loopback struct {
	Hub   *hub.Hub
	Links map[string]*NodeLink
	// HubURL is the hub's base URL.
	HubURL  string
	servers []*http.Server
	cancel  context.CancelFunc
}

// Close stops the servers and the transports.
func (l *Loopback) Close() {
	l.cancel()
	for _, s := range l.servers {
		_ = s.Close()
	}
}

// StartLoopback generates keys and a trust list for the members, starts
// a hub and an endpoint per member, each on its own loopback listener.
func StartLoopback(ctx context.Context, cfg LoopbackConfig) (_ *Loopback, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Loopback{Links: map[string]*NodeLink{}, cancel: cancel}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	now := time.Now().UTC()
	codes := []string{hub.HubCode}
	for _, m := range cfg.Members {
		codes = append(codes, m.Node.Code())
	}
	lns := map[string]net.Listener{}
	signers := map[string]envelope.Signer{}
	file := TrustFile{Version: 1}
	for _, code := range codes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("hubhttp: loopback listener: %w", err)
		}
		lns[code] = ln
		s, pub, err := envelope.GenerateSigner(code, "", rand.Reader)
		if err != nil {
			return nil, err
		}
		if s.KID, err = KeyID(pub); err != nil {
			return nil, err
		}
		signers[code] = s
		e := FileEntry{Code: code, Role: string(envelope.RoleNode), Party: code[:2], Endpoint: "http://" + ln.Addr().String() + "/",
			Keys: []FileKey{{Public: EncodePublic(pub), From: now.Add(-time.Hour).Format(time.RFC3339), Until: now.Add(24 * time.Hour).Format(time.RFC3339)}}}
		if code == hub.HubCode {
			e.Role, e.Party = string(envelope.RoleHub), ""
		}
		file.Entries = append(file.Entries, e)
	}
	raw, err := yaml.Marshal(file)
	if err != nil {
		return nil, fmt.Errorf("hubhttp: loopback trust file: %w", err)
	}
	path := filepath.Join(cfg.Dir, "loopback-trust.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("hubhttp: loopback trust file: %w", err)
	}
	pub, err := NewPublisher(path, signers[hub.HubCode], nil, log)
	if err != nil {
		return nil, err
	}
	client := NewClient(nil, 10*time.Second)
	h, err := hub.Open(ctx, hub.Config{Code: hub.HubCode, DB: cfg.HubDB, Signer: signers[hub.HubCode], Trust: pub.Current, Agreements: cfg.Agreements,
		Transport: NewTransport(ctx, client, pub.Current, log)})
	if err != nil {
		return nil, err
	}
	l.Hub = h
	go tickLoop(ctx, h.Tick)
	l.HubURL = "http://" + lns[hub.HubCode].Addr().String() + "/"
	l.serve(lns[hub.HubCode], HubHandler(h, pub, cfg.Agreements, log))
	for _, m := range cfg.Members {
		code := m.Node.Code()
		ep, err := hub.NewEndpoint(hub.EndpointConfig{Code: code, Node: m.Node, HubOrg: m.HubOrg, HubCode: hub.HubCode, Signer: signers[code],
			Transport: NewTransport(ctx, client, pub.Current, log), Trust: pub.Current, Origins: &Origins{Client: client, Trust: pub.Current}, Log: log})
		if err != nil {
			return nil, err
		}
		go tickLoop(ctx, ep.Tick)
		l.serve(lns[code], NodeHandler(ep, log))
		l.Links[code] = &NodeLink{Endpoint: ep, Client: client, HubURL: l.HubURL}
	}
	return l, nil
}

func (l *Loopback) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	l.servers = append(l.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("hubhttp: loopback server", "err", err)
		}
	}()
}

// tickLoop runs a participant's protocol timers until ctx ends.
func tickLoop(ctx context.Context, f func(context.Context) error) {
	hub.Every(ctx, 50*time.Millisecond, f, nil)
}
