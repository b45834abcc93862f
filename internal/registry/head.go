package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Anchored heads (issue 7, item 5). The journal is hash-chained, so no entry
// can be altered or removed from its middle unseen; but its end can be cut
// off, with the effects of the last entries, and what is left is a
// consistent shorter ledger. A node therefore signs its head with its own
// key and hands it out (GET …/head); whoever keeps a head (an operator, the
// hub) can later show that a journal ending below it, or differing at it,
// is not the one the node published. The node also records every head it
// published, so verify reports a cut below them even when nobody kept one
// (an attacker who also deletes those rows is caught only by a head kept
// outside the database: corridor verify --head SEQ:HASH).

// defaultHeadInterval bounds how often a node records a new head: a read
// storm at a moving journal writes at most one row per interval, and the
// head handed out is at most this old (its at says when it was signed).
const defaultHeadInterval = time.Second

// heads signs and records the node's published heads.
type heads struct {
	code     string
	db       *store.DB
	priv     ed25519.PrivateKey
	kid      string
	now      func() time.Time
	interval time.Duration

	mu sync.Mutex
	// last is the latest head recorded (Seq 0 before the first);
	// lastAt is when this process published it (zero if it was loaded).
	last   ledger.SignedHead
	lastAt time.Time
}

// openHeads loads the node's key, creating it on first open, and the
// latest head it published. The key's creation time is the wall clock's:
// opening a node must not consume a tick of a test's journal clock.
func openHeads(ctx context.Context, db *store.DB, code string, now func() time.Time) (*heads, error) {
	k, found, err := db.NodeKey(ctx)
	if err != nil {
		return nil, err
	}
	if !found {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("registry: create the node key: %w", err)
		}
		k, err = db.EnsureNodeKey(ctx, store.NodeKey{KID: ledger.KeyID(pub), Seed: priv.Seed(), Public: pub, CreatedAt: time.Now()})
		if err != nil {
			return nil, err
		}
	}
	if len(k.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("registry: node key %s: seed has %d bytes, not %d", k.KID, len(k.Seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(k.Seed)
	pub := priv.Public().(ed25519.PublicKey)
	if !bytes.Equal(pub, k.Public) || ledger.KeyID(pub) != k.KID {
		return nil, fmt.Errorf("registry: node key %s: the stored public key or kid does not match the private key", k.KID)
	}
	h := &heads{code: code, db: db, priv: priv, kid: k.KID, now: now, interval: defaultHeadInterval}
	if p, found, err := db.LatestPublishedHead(ctx); err != nil {
		return nil, err
	} else if found {
		h.last = signedFromRow(code, p)
	}
	return h, nil
}

func signedFromRow(code string, p store.PublishedHead) ledger.SignedHead {
	return ledger.SignedHead{Registry: code, Seq: p.Seq, Hash: p.Hash, At: p.At, KID: p.KID, Signature: p.Signature}
}

// PublicKey is a node's head-signing key as a JSON Web Key (RFC 8037 §2:
// kty OKP, crv Ed25519, x the public key in base64url).
type PublicKey struct {
	Registry string `json:"registry"`
	KID      string `json:"kid"`
	Kty      string `json:"kty"`
	Crv      string `json:"crv"`
	X        string `json:"x"`
}

// Ed25519 decodes the key.
func (k PublicKey) Ed25519() (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(b) != ed25519.PublicKeySize || k.Kty != "OKP" || k.Crv != "Ed25519" {
		return nil, fmt.Errorf("registry: key %s is not an Ed25519 OKP key", k.KID)
	}
	return ed25519.PublicKey(b), nil
}

// PublicKey returns the key the node signs its heads with.
func (n *Node) PublicKey() PublicKey {
	pub := n.heads.priv.Public().(ed25519.PublicKey)
	return PublicKey{Registry: n.code, KID: n.heads.kid, Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub)}
}

// ErrJournalBelowHead means the node's journal ends below, or differs at,
// a head it has published: it will not sign a head over a cut journal.
var ErrJournalBelowHead = errors.New("registry: the journal does not reach a head this node published")

// PublishHead returns the node's current journal head, signed, after
// recording it in a commit of its own. Within the interval after a
// publication it returns that head again without writing, so reads cannot
// flood the table; a head is never returned before it is recorded.
func (n *Node) PublishHead(ctx context.Context) (ledger.SignedHead, error) {
	h := n.heads
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if !h.lastAt.IsZero() && now.Sub(h.lastAt) < h.interval {
		return h.last, nil
	}
	// The database's head, not the memory's: a head must be committed.
	e, err := h.db.Head(ctx)
	if err != nil {
		return ledger.SignedHead{}, err
	}
	if e.Seq < h.last.Seq {
		return ledger.SignedHead{}, fmt.Errorf("%w: the journal ends at entry %d, below head %s published at %s", ErrJournalBelowHead, e.Seq, ledger.HeadRef{Seq: h.last.Seq, Hash: h.last.Hash}, h.last.At.Format(time.RFC3339))
	}
	if e.Seq == h.last.Seq && e.Seq != 0 {
		if e.Hash != h.last.Hash {
			return ledger.SignedHead{}, fmt.Errorf("%w: journal entry %d has hash %s, the head published at %s has %s", ErrJournalBelowHead, e.Seq, e.Hash, h.last.At.Format(time.RFC3339), h.last.Hash)
		}
		h.lastAt = now
		return h.last, nil
	}
	hash := e.Hash
	if e.Seq == 0 {
		hash = ledger.GenesisHash
	}
	s := ledger.SignedHead{Registry: h.code, Seq: e.Seq, Hash: hash, At: now.UTC()}.Sign(h.priv)
	if e.Seq == 0 {
		// An empty journal promises nothing; there is nothing to record.
		return s, nil
	}
	row, err := h.db.RecordHead(ctx, store.PublishedHead{Seq: s.Seq, Hash: s.Hash, At: s.At, KID: s.KID, Signature: s.Signature})
	if errors.Is(err, store.ErrHeadConflict) {
		return ledger.SignedHead{}, fmt.Errorf("%w: %v", ErrJournalBelowHead, err)
	}
	if err != nil {
		return ledger.SignedHead{}, err
	}
	// Another process on the same database may have recorded this seq
	// first: hand out what is recorded.
	h.last, h.lastAt = signedFromRow(h.code, row), now
	return h.last, nil
}

// ErrNotOwnHead: a head the hub says it saw is not one this node signed.
var ErrNotOwnHead = errors.New("registry: the head is not signed by this node")

// RecordHubHead records that the hub, at reconciliation rec, recorded
// head of this node's journal (hub protocol message head_seen; message is
// the hub's signed envelope). The head must be this node's, signed with its
// key: the node keeps only promises it made. Like a published head, it is
// then a head verify checks the journal against, kept by the node on the
// hub's word as well as its own.
func (n *Node) RecordHubHead(ctx context.Context, head ledger.SignedHead, rec, message string) error {
	if head.Registry != n.code {
		return fmt.Errorf("%w: head of registry %q", ErrNotOwnHead, head.Registry)
	}
	if err := head.Verify(n.heads.priv.Public().(ed25519.PublicKey)); err != nil {
		return fmt.Errorf("%w: %v", ErrNotOwnHead, err)
	}
	return n.heads.db.RecordHubHead(ctx, store.HubHead{PublishedHead: store.PublishedHead{Seq: head.Seq, Hash: head.Hash, At: head.At, KID: head.KID, Signature: head.Signature},
		Reconciliation: rec, Message: message})
}

// checkHubHeads reports the heads the hub recorded (RecordHubHead) that
// the journal does not reach or has another hash at (verify).
func checkHubHeads(ctx context.Context, db *store.DB, rep *Report) error {
	ms, err := db.HubHeadsOffJournal(ctx, maxViolations)
	if err != nil {
		return err
	}
	for _, m := range ms {
		ref := ledger.HeadRef{Seq: m.Head.Seq, Hash: m.Head.Hash}
		if m.JournalHash == "" {
			rep.add("heads: the journal has no entry %d, but the hub recorded head %s at reconciliation %s (the journal was cut short)", m.Head.Seq, ref, m.Head.Reconciliation)
		} else {
			rep.add("heads: journal entry %d has hash %s, but the hub recorded head %s at reconciliation %s (the journal was rewritten)", m.Head.Seq, m.JournalHash, ref, m.Head.Reconciliation)
		}
	}
	return nil
}

// checkPublishedHeads reports the published heads the journal does not
// reach or has another hash at (verify).
func checkPublishedHeads(ctx context.Context, db *store.DB, rep *Report) error {
	ms, err := db.PublishedHeadsOffJournal(ctx, maxViolations)
	if err != nil {
		return err
	}
	for _, m := range ms {
		ref := ledger.HeadRef{Seq: m.Head.Seq, Hash: m.Head.Hash}
		if m.JournalHash == "" {
			rep.add("heads: the journal has no entry %d, but the node published head %s at %s (the journal was cut short)", m.Head.Seq, ref, m.Head.At.Format(time.RFC3339))
		} else {
			rep.add("heads: journal entry %d has hash %s, but the node published head %s at %s (the journal was rewritten)", m.Head.Seq, m.JournalHash, ref, m.Head.At.Format(time.RFC3339))
		}
	}
	return nil
}

// CheckHeads checks the journal of db against heads kept outside it (by an
// operator, by the hub) and returns one violation per head it does not
// reach or has another hash at.
func CheckHeads(ctx context.Context, db *store.DB, refs []ledger.HeadRef) ([]string, error) {
	var out []string
	for _, r := range refs {
		e, found, err := db.Entry(ctx, r.Seq)
		if err != nil {
			return out, err
		}
		switch {
		case !found:
			last, err := db.Head(ctx)
			if err != nil {
				return out, err
			}
			out = append(out, fmt.Sprintf("heads: the journal ends at entry %d and does not reach head %s (the journal was cut short)", last.Seq, r))
		case e.Hash != r.Hash:
			out = append(out, fmt.Sprintf("heads: journal entry %d has hash %s, not that of head %s (the journal was rewritten)", r.Seq, e.Hash, r))
		}
	}
	return out, nil
}
