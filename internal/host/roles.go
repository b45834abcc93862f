package host

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/corridor-carbon/corridor/internal/api"
	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/hub"
	"github.com/corridor-carbon/corridor/internal/hub/agreements"
	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/hub/hubhttp"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/problem"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// The networked corridor: the hub and each registry node as their own
// process (corridor serve --role hub|node), each on its own database,
// talking the hub protocol over HTTPS (package hubhttp).

// TLSOptions are the TLS files of a process. Cert and Key make it serve
// HTTPS; ClientCA makes it require client certificates chaining to that
// CA. CA is the pool the servers it calls must chain to (empty: the
// system roots); ClientCert and ClientKey are what it shows to servers
// that require a client certificate.
type TLSOptions struct {
	Cert, Key, ClientCA       string
	CA, ClientCert, ClientKey string
}

// ServerConfig is the serving TLS configuration, nil for plain HTTP.
func (o TLSOptions) ServerConfig() (*tls.Config, error) {
	if o.Cert == "" && o.Key == "" {
		if o.ClientCA != "" {
			return nil, fmt.Errorf("host: --tls-client-ca needs --tls-cert and --tls-key: %w", ErrInvalid)
		}
		return nil, nil
	}
	if o.Cert == "" || o.Key == "" {
		return nil, fmt.Errorf("host: --tls-cert and --tls-key go together: %w", ErrInvalid)
	}
	cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
	if err != nil {
		return nil, fmt.Errorf("host: TLS certificate: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if o.ClientCA != "" {
		pool, err := certPool(o.ClientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientConfig is the outgoing TLS configuration.
func (o TLSOptions) ClientConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pool, err := certPool(o.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return nil, fmt.Errorf("host: --tls-client-cert and --tls-client-key go together: %w", ErrInvalid)
	}
	if o.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("host: TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func certPool(path string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("host: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("host: CA file %s holds no PEM certificate: %w", path, ErrInvalid)
	}
	return pool, nil
}

// HubOptions configure a hub process.
type HubOptions struct {
	Addr string
	// Storage holds the hub's database (NetworkHubStore): SQLite
	// DataDir/network-hub.db, or schema network_hub of the PostgreSQL
	// database.
	Storage Storage
	// KeyFile is the hub's ed25519 key (corridor keygen).
	KeyFile string
	// TrustFile is the administrator's trust list (hubhttp.TrustFile).
	TrustFile string
	// AgreementsFile replaces the built-in corridor agreements when set.
	AgreementsFile string
	TLS            TLSOptions
	// RetryMax caps the re-send backoff (the hub's default when 0).
	RetryMax time.Duration
	// ReconcileEvery, when positive, reconciles the hub with every node
	// of the trust list at start and then at this interval.
	ReconcileEvery time.Duration
	// ReconcileGrace: see hub.ReconcileOptions (the default when 0).
	ReconcileGrace time.Duration
	// AdminToken is the hub administrator's token for POST
	// /hub/v1/reconcile (corridor hub reconcile --hub-url); empty: the
	// endpoint is off.
	AdminToken string
}

// NetworkHubStore is where a hub process (--role hub) keeps its own
// database: DataDir/network-hub.db or schema network_hub, apart from the
// embedded demo's hub so the two never replay each other's transfers.
func (s Storage) NetworkHubStore() store.Config {
	if s.DatabaseURL != "" {
		return store.Config{URL: s.DatabaseURL, Schema: "network_hub"}
	}
	return store.Config{Path: filepath.Join(s.DataDir, "network-hub.db")}
}

// ServeHub runs the hub until ctx ends: it signs and serves the trust
// list, takes the nodes' messages and answers the transfer reads.
func ServeHub(ctx context.Context, o HubOptions) error {
	if o.KeyFile == "" || o.TrustFile == "" {
		return fmt.Errorf("host: the hub needs --hub-key and --trust: %w", ErrInvalid)
	}
	if err := o.Storage.Check(); err != nil {
		return err
	}
	raw, err := os.ReadFile(o.TrustFile)
	if err != nil {
		return fmt.Errorf("host: trust file: %w", err)
	}
	first, err := hubhttp.ParseTrustFile(raw, time.Now())
	if err != nil {
		return fmt.Errorf("host: %w: %w", err, ErrInvalid)
	}
	signer, err := hubhttp.LoadSigner(o.KeyFile, first.Issuer)
	if err != nil {
		return err
	}
	pub, err := hubhttp.NewPublisher(o.TrustFile, signer, nil, nil)
	if err != nil {
		return fmt.Errorf("host: %w: %w", err, ErrInvalid)
	}
	set, err := agreements.Default()
	if o.AgreementsFile != "" {
		var data []byte
		if data, err = os.ReadFile(o.AgreementsFile); err == nil {
			set, err = agreements.Parse(data)
		}
	}
	if err != nil {
		return fmt.Errorf("host: agreements: %w", err)
	}
	serverTLS, clientTLS, err := tlsPair(o.TLS)
	if err != nil {
		return err
	}
	ln, err := Listen(o.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if o.Storage.DatabaseURL == "" {
		if err := os.MkdirAll(o.Storage.DataDir, 0o755); err != nil {
			return fmt.Errorf("host: data dir: %w", err)
		}
	}
	db, err := store.Open(ctx, o.Storage.NetworkHubStore())
	if err != nil {
		return fmt.Errorf("host: open the hub database: %w", err)
	}
	defer db.Close()
	// One hub per database, held the way a node holds its own: a second
	// hub beside this one would replay and reconcile the same transfers
	// (its reconciler froze good units as reconcile_missing).
	lock, err := registry.HoldServing(ctx, db, slog.Default())
	if err != nil {
		return fmt.Errorf("host: the hub's database: %w", err)
	}
	defer lock.Release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := hubhttp.NewClient(clientTLS, 10*time.Second)
	tr := hubhttp.NewTransport(ctx, client, pub.Current, nil)
	a6, err := openNetworkedArticle6(ctx, db, set, signer, pub.Current, client)
	if err != nil {
		return err
	}
	h, err := hub.Open(ctx, hub.Config{Code: signer.Code, DB: db, Signer: signer, Trust: pub.Current, Agreements: set, Transport: tr, RetryMax: o.RetryMax, Article6: a6})
	if err != nil {
		return err
	}
	// A hub that lost its lock to another process may be behind the
	// database: its timers stop writing, as its handlers below stop
	// taking messages.
	go tick(ctx, "hub", func(ctx context.Context) error {
		if lock.Lost() != nil {
			return nil
		}
		return h.Tick(ctx)
	})
	a6Status := func() hub.Article6Status { return a6.Status() }
	a6Reads := api.NetworkedHubArticle6()
	if a6 != nil {
		// The feed is also pulled between proposals, so the ledger, the
		// reads and /readyz follow the nodes within this interval; its
		// failures are logged by the ledger when the state changes.
		if err := a6.Sync(ctx); err != nil && !errors.Is(err, hub.ErrArticle6Stale) {
			return fmt.Errorf("host: the hub's Article 6 ledger: %w", err)
		}
		go hub.Every(ctx, Article6SyncEvery, func(ctx context.Context) error {
			if lock.Lost() != nil { // it appends to hub_article6, as the timers above write
				return nil
			}
			return a6.Sync(ctx)
		}, nil)
		a6Reads = api.New().WithArticle6(a6).Handler()
	} else {
		a6Status = nil
	}
	// Reconciliation reads each node of the trust list with requests
	// signed by the hub's key: the hub holds no node's token.
	rec := &hubhttp.Reconciler{Hub: h, Nodes: func() []hub.NodeView { return hubhttp.RemoteNodes(h, pub.Current, client) },
		AdminToken: o.AdminToken, Options: hub.ReconcileOptions{Grace: o.ReconcileGrace}}
	if o.ReconcileEvery > 0 {
		go rec.Run(ctx, o.ReconcileEvery)
	}
	hubMux := http.NewServeMux()
	rec.Register(hubMux)
	hubMux.Handle("/hub/", hubhttp.HubHandler(h, pub, set, nil))
	mux := http.NewServeMux()
	mux.Handle("/hub/", whileServing(lock.Lost, hubMux))
	mux.Handle("/api/v1/article6/", a6Reads)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", hubhttp.ReadyHandler(db.SQL().PingContext, lock.Lost, a6Status, nil))
	if serverTLS == nil {
		slog.Warn("corridor hub: serving plain HTTP: messages, trust list and records travel unencrypted and unauthenticated by TLS; give --tls-cert and --tls-key in production")
	}
	slog.Info("corridor hub", "code", signer.Code, "kid", signer.KID, "trust_version", pub.Current().Version, "database", hubWhere(o.Storage), "reconcile_every", o.ReconcileEvery, "reconcile_on_demand", o.AdminToken != "", "article6", a6 != nil)
	return serveOn(ctx, ln, mux, serverTLS)
}

// Article6SyncEvery is how often a networked hub pulls its nodes'
// Article 6 facts besides the pull at each proposal and read (our choice).
const Article6SyncEvery = 5 * time.Second

// openNetworkedArticle6 opens the networked hub's Article 6 ledger as the
// embedded corridor's is (hub.Article6ConfigFor: same mapping of
// registries to Parties, the same hub_article6 table replayed), fed by
// each node of the trust list over /hub/v1/article6 with requests signed
// by the hub's key. The cooperative approaches are those of the hub's
// agreements; with none (no agreement has Article 6 terms) no unit can be
// an ITMO, so the hub keeps no ledger (nil): it answers the Article 6
// reads 503 article6_unavailable and refuses ndc, oimp and icc transfers.
func openNetworkedArticle6(ctx context.Context, db *store.DB, set agreements.Set, signer envelope.Signer, trust func() envelope.TrustList, client *hubhttp.Client) (*hub.Article6, error) {
	aps, err := article6.ApproachesFrom(set)
	if err != nil {
		return nil, fmt.Errorf("host: article 6 approaches: %w", err)
	}
	if len(aps) == 0 {
		slog.Info("corridor hub: no agreement has Article 6 terms; the hub keeps no Article 6 ledger")
		return nil, nil
	}
	members, expect := hubhttp.RemoteArticle6(signer, trust, client)
	cfg := hub.Article6ConfigFor(db, members, aps)
	cfg.Expect = expect
	a6, err := hub.OpenArticle6(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("host: article 6 ledger: %w", err)
	}
	return a6, nil
}

// CodeHubNotServing is the problem code of a hub request refused because
// the hub lost its database's serving lock (and /readyz's hub value).
const CodeHubNotServing = hubhttp.ReadyNotServing

// whileServing serves h while the hub holds its database's serving lock
// (lost is nil). Once another process took it, this hub's state in memory
// may be behind the database: it takes no message and no reconcile
// request (503, nothing recorded, the sender re-sends to the hub that
// holds the lock) and answers no record; only the signed trust list,
// which is the file's, is still served.
func whileServing(lost func() error, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := lost(); err != nil && !(r.Method == http.MethodGet && r.URL.Path == "/"+hubhttp.PathTrust) {
			w.Header().Set("Retry-After", "5")
			problem.Write(w, problem.Problem{Status: http.StatusServiceUnavailable, Code: CodeHubNotServing,
				Detail: "This hub lost its database's serving lock to another hub process, so it takes no messages and answers no records: nothing was recorded; send to the hub that holds the lock."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func hubWhere(s Storage) string {
	if s.DatabaseURL != "" {
		return Storage{DatabaseURL: s.DatabaseURL}.Where() + " schema network_hub"
	}
	return "SQLite " + s.NetworkHubStore().Path
}

func tlsPair(o TLSOptions) (*tls.Config, *tls.Config, error) {
	s, err := o.ServerConfig()
	if err != nil {
		return nil, nil, err
	}
	c, err := o.ClientConfig()
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

// NodeOptions configure a registry node process of a networked corridor.
type NodeOptions struct {
	Addr    string
	Code    string
	Storage Storage
	// HubURL is the hub's base URL; its trust list is HubURL/hub/v1/trust.
	HubURL string
	// HubPublicKey pins the hub's key ("KID:PUBLIC" or "PUBLIC").
	HubPublicKey string
	// KeyFile is this node's ed25519 key (corridor keygen).
	KeyFile string
	TLS     TLSOptions
	// TrustRefresh is how often the trust list is re-fetched (1 min when 0).
	TrustRefresh time.Duration
	// RetryMax caps the re-send backoff (the endpoint's default when 0).
	RetryMax time.Duration
}

// hubOrgKey is the idempotency key of the organisation acting for the hub
// in a node: the same key every start, so it is created once.
const hubOrgKey = "corridor:hub-organisation"

// ServeNode runs one registry node of a networked corridor until ctx
// ends: its API and web as `serve` has them, plus the hub protocol's
// /hub/v1/messages and /hub/v1/origins.
func ServeNode(ctx context.Context, o NodeOptions) error {
	if err := checkCode(o.Code); err != nil {
		return err
	}
	if o.HubURL == "" || o.HubPublicKey == "" || o.KeyFile == "" {
		return fmt.Errorf("host: a node needs --hub-url, --hub-public-key and --node-key: %w", ErrInvalid)
	}
	if err := o.Storage.Check(); err != nil {
		return err
	}
	pin, err := hubhttp.ParsePin(o.HubPublicKey)
	if err != nil {
		return fmt.Errorf("host: %w: %w", err, ErrInvalid)
	}
	signer, err := hubhttp.LoadSigner(o.KeyFile, o.Code)
	if err != nil {
		return err
	}
	serverTLS, clientTLS, err := tlsPair(o.TLS)
	if err != nil {
		return err
	}
	trustURL, err := hubhttp.Join(o.HubURL, hubhttp.PathTrust)
	if err != nil {
		return fmt.Errorf("host: --hub-url: %w: %w", err, ErrInvalid)
	}
	ln, err := Listen(o.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	client := hubhttp.NewClient(clientTLS, 10*time.Second)
	if o.Storage.DatabaseURL == "" || o.Storage.DataDir != "" {
		if err := os.MkdirAll(filepath.Join(o.Storage.DataDir, "registries"), 0o755); err != nil {
			return fmt.Errorf("host: data dir: %w", err)
		}
	}
	savedTrust := o.Storage.TrustFile(o.Code)
	src := &hubhttp.Source{URL: trustURL, Client: client, Pin: pin, Log: slog.Default(), OnInstall: func(c string) { saveTrust(savedTrust, c) }}
	hl, err := newHubLink(client.HTTP.Transport, o.HubURL, src)
	if err != nil {
		return err
	}
	client.HTTP.Transport = hl
	if err := firstTrust(ctx, src, savedTrust, hl); err != nil {
		return err
	}
	self, ok := src.Current().Entry(o.Code)
	if !ok || self.Role != envelope.RoleNode {
		return fmt.Errorf("host: the hub's trust list has no node %s", o.Code)
	}
	if !keyValid(self, signer.KID) {
		return fmt.Errorf("host: the hub's trust list has no valid key %s (from --node-key) for %s", signer.KID, o.Code)
	}
	// The node alone, not Open: Open links its nodes through an embedded
	// hub, and this node's hub is the hub process.
	db, err := store.Open(ctx, o.Storage.Store(o.Code))
	if err != nil {
		return fmt.Errorf("host: open registry %s: %w", o.Code, err)
	}
	defer db.Close()
	n, err := registry.Open(ctx, db, registry.Options{Code: o.Code})
	if err != nil {
		return fmt.Errorf("host: open registry %s: %w", o.Code, err)
	}
	defer n.Close()
	org, err := n.Do(ctx, registry.Actor{Role: ledger.RoleAdmin}, hubOrgKey, registry.CreateOrganisation{Name: "Corridor hub (" + src.Current().Issuer + ")", Country: self.Party})
	if err != nil {
		return fmt.Errorf("host: the hub's organisation in %s: %w", o.Code, err)
	}
	tr := hubhttp.NewTransport(ctx, client, src.Current, nil)
	ep, err := hub.NewEndpoint(hub.EndpointConfig{Code: o.Code, Node: n, HubOrg: org.ID, HubCode: src.Current().Issuer, Signer: signer, Transport: tr,
		Trust: src.Current, Origins: &hubhttp.Origins{Client: client, Trust: src.Current}, RetryMax: o.RetryMax})
	if err != nil {
		return err
	}
	hl.setEndpoint(ep)
	go tick(ctx, o.Code, ep.Tick)
	refresh := o.TrustRefresh
	if refresh == 0 {
		refresh = time.Minute
	}
	go src.Run(ctx, refresh)
	link := nodeLink{NodeLink: &hubhttp.NodeLink{Endpoint: ep, Client: client, HubURL: o.HubURL}, src: src}
	mux := http.NewServeMux()
	mux.Handle("GET /"+hubhttp.PathSnapshot, &hubhttp.SnapshotHandler{Node: n, HubOrg: org.ID, SignedRead: hubhttp.SignedRead{HubCode: src.Current().Issuer, Trust: src.Current}})
	mux.Handle("GET /"+hubhttp.PathArticle6, &hubhttp.Article6Handler{Node: n, SignedRead: hubhttp.SignedRead{HubCode: src.Current().Issuer, Trust: src.Current}})
	mux.Handle("/hub/", hubhttp.NodeHandler(ep, nil))
	mux.Handle("/", nodeHandler([]*registry.Node{n}, link, hl))
	if serverTLS == nil {
		slog.Warn("corridor node: serving plain HTTP: give --tls-cert and --tls-key in production")
	}
	slog.Info("corridor node", "registry", o.Code, "kid", signer.KID, "hub", o.HubURL, "trust_version", src.Current().Version, "storage", o.Storage.Where())
	return serveOn(ctx, ln, mux, serverTLS)
}

// nodeHandler is the node's API and web, which reach the corridor through
// link; its /readyz and /metrics report the hub link hl.
func nodeHandler(nodes []*registry.Node, link hub.Link, hl api.HubLinkReporter) http.Handler {
	h, _ := handler(nodes, link, hl, "", false)
	return h
}

// TickEvery is how often a hub or node process runs its protocol timers
// (re-sends due, the hub's timeouts, the relay's view of the journal).
const TickEvery = 200 * time.Millisecond

func tick(ctx context.Context, who string, f func(context.Context) error) {
	hub.Every(ctx, TickEvery, f, func(err error) { slog.Warn("corridor timers", "participant", who, "err", err) })
}

func keyValid(e envelope.Entry, kid string) bool {
	for _, k := range e.Keys {
		if k.KID == kid && k.ValidAt(time.Now()) {
			return true
		}
	}
	return false
}

// fetchTrust gets the first trust list, retrying while the hub is not up
// (nodes and hub may start in any order).
func fetchTrust(ctx context.Context, src *hubhttp.Source) error {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := src.Fetch(ctx)
		if err == nil {
			return nil
		}
		// A list that does not verify will not verify on retry, nor
		// will a URL whose scheme the hub does not speak.
		var pm *hubhttp.ProtocolMismatchError
		if errors.As(err, &pm) {
			return fmt.Errorf("host: --hub-url: the hub at %w", pm)
		}
		if errors.Is(err, hubhttp.ErrTrustRefused) {
			return fmt.Errorf("host: %w", err)
		}
		if attempt == 1 || attempt%10 == 0 {
			slog.Warn("waiting for the hub's trust list", "url", src.URL, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("host: the hub's trust list: %w", errors.Join(err, ctx.Err()))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// serveOn serves h on ln (HTTPS when cfg is set) until ctx ends, then
// shuts down gracefully (up to 10 s for requests in flight).
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, cfg *tls.Config) error {
	scheme := "http"
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	srv := api.NewHTTPServer(h)
	srv.TLSConfig = cfg
	slog.Info("corridor serving", "addr", scheme+"://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("host: serve: %w", err)
	case <-ctx.Done():
	}
	slog.Info("corridor shutting down", "reason", context.Cause(ctx), "grace", "10s for requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("host: shut down: %w", err)
	}
	return nil
}

// ReconcileRemote asks the running hub at hubURL to reconcile with every
// node now (POST /hub/v1/reconcile with the hub administrator's token)
// and returns its results.
func ReconcileRemote(ctx context.Context, hubURL, token string, o TLSOptions) ([]hub.Reconciliation, error) {
	cfg, err := o.ClientConfig()
	if err != nil {
		return nil, err
	}
	u, err := hubhttp.Join(hubURL, hubhttp.PathReconcile)
	if err != nil {
		return nil, fmt.Errorf("host: --hub-url: %w: %w", err, ErrInvalid)
	}
	// A reconciliation reads every node: longer than a protocol call.
	rs, err := hubhttp.NewClient(cfg, 10*time.Minute).Reconcile(ctx, u, token)
	if err != nil {
		return nil, fmt.Errorf("host: reconcile at %s: %w", hubURL, err)
	}
	return rs, nil
}
