package host

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// BootstrapParams describe a new registry's administrator.
type BootstrapParams struct {
	Code    string // registry code, e.g. VN
	OrgName string // the administrator's organisation
	Country string // ISO 3166-1 alpha-2
	// NewToken issues another admin token for an administrator that was
	// bootstrapped before (its first token is shown once and not stored).
	NewToken bool

	// afterStep, in tests, runs after each step and may fail it, to stand
	// for a crash or a lost connection between two calls.
	afterStep func(step string) error
}

// BootstrapResult is what Bootstrap made or found.
type BootstrapResult struct {
	OrgID     int64
	AccountID int64
	// Token is the new admin token; empty when the administrator was
	// bootstrapped before and NewToken was not asked for.
	Token string
	// Resumed is true when some step had already been done (a retry).
	Resumed bool
}

// ErrAlreadyBootstrapped means the registry already has its administrator
// and token from an earlier bootstrap with the same inputs.
var ErrAlreadyBootstrapped = errors.New("already bootstrapped")

// bootstrapKeys derives the three calls' idempotency keys from the inputs,
// so that rerunning a bootstrap that failed half way resumes it instead of
// creating a second organisation.
func bootstrapKeys(p BootstrapParams) (org, account, token string) {
	sum := sha256.Sum256([]byte(p.Code + "\x00" + p.OrgName + "\x00" + p.Country))
	base := "bootstrap-" + p.Code + "-" + hex.EncodeToString(sum[:8])
	return base + "-org", base + "-account", base + "-token"
}

// Bootstrap opens (creating if needed) registry p.Code and creates its
// administrator organisation, a national holding account and an admin
// token. It is safe to rerun with the same inputs: each call has a key
// derived from them, so done steps are answered from the journal. A
// registry whose journal was started otherwise (by the demo seed or by a
// bootstrap with other inputs) is refused.
func Bootstrap(ctx context.Context, s Storage, p BootstrapParams) (BootstrapResult, error) {
	var res BootstrapResult
	if err := checkCode(p.Code); err != nil {
		return res, err
	}
	if err := s.Check(); err != nil {
		return res, err
	}
	if c, err := cbam.CountryCode(p.Country); err != nil || c != p.Country {
		return res, fmt.Errorf("host: bootstrap %s: --country %q must be an assigned ISO 3166-1 alpha-2 code in upper case, such as VN or TH: %w", p.Code, p.Country, ErrInvalid)
	}
	db, err := store.Open(ctx, s.Store(p.Code))
	if err != nil {
		return res, fmt.Errorf("host: bootstrap %s: %w", p.Code, err)
	}
	defer db.Close()
	n, err := registry.Open(ctx, db, registry.Options{Code: p.Code})
	if err != nil {
		return res, fmt.Errorf("host: bootstrap %s: %w", p.Code, err)
	}
	defer n.Close()
	orgKey, accountKey, tokenKey := bootstrapKeys(p)
	if head := n.Totals().JournalSeq; head > 0 {
		done, err := db.EntriesByKey(ctx, []string{orgKey})
		if err != nil {
			return res, fmt.Errorf("host: bootstrap %s: %w", p.Code, err)
		}
		if len(done) == 0 {
			return res, ledger.Errorf(ledger.KindConflict, "already_bootstrapped", 0, "org-name",
				"registry %s already has %d journal entries and was not bootstrapped with this organisation name and country; bootstrap only sets up a new registry (create further organisations through the API)", p.Code, head)
		}
	}
	sys := registry.Actor{Role: ledger.RoleAdmin}
	step := func(name, key string, req registry.Request) (registry.Result, error) {
		r, err := n.Do(ctx, sys, key, req)
		if err != nil {
			return r, fmt.Errorf("host: bootstrap %s: %s: %w", p.Code, name, err)
		}
		res.Resumed = res.Resumed || r.Replayed
		if p.afterStep != nil {
			if err := p.afterStep(name); err != nil {
				return r, fmt.Errorf("host: bootstrap %s: after %s: %w", p.Code, name, err)
			}
		}
		return r, nil
	}
	org, err := step("organisation", orgKey, registry.CreateOrganisation{Name: p.OrgName, Country: p.Country})
	if err != nil {
		return res, err
	}
	res.OrgID = org.ID
	acct, err := step("account", accountKey, registry.OpenAccount{OrgID: org.ID, Type: ledger.NationalHolding, Name: "National holding account"})
	if err != nil {
		return res, err
	}
	res.AccountID = acct.ID
	if p.NewToken {
		raw := make([]byte, 8)
		if _, err := rand.Read(raw); err != nil {
			return res, fmt.Errorf("host: bootstrap %s: %w", p.Code, err)
		}
		tokenKey += "-" + hex.EncodeToString(raw)
	}
	tok, err := step("token", tokenKey, registry.CreateToken{OrgID: org.ID, Role: ledger.RoleAdmin, Name: "bootstrap admin"})
	if err != nil {
		return res, err
	}
	// A replayed token call carries no token text: it is shown once only.
	res.Token = tok.Token
	if res.Token == "" {
		return res, fmt.Errorf("host: bootstrap %s: organisation %d and its admin token were created by an earlier run; the token was printed then and is not stored (rerun with --new-token for another): %w", p.Code, org.ID, ErrAlreadyBootstrapped)
	}
	return res, nil
}
