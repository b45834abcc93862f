package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/corridor-carbon/corridor/internal/ledger"

	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store"
)

// Verified is one registry's verify report.
type Verified struct {
	Code   string
	Report registry.Report
}

// Verify re-checks the registries the storage holds (only code's when code
// is set) and never writes: each database is opened read-only, and a
// registry that is not there is an error (wrapping ErrNoRegistry), never
// created. heads, kept from the node (corridor head), are checked against
// code's journal (CheckHeads) and reported first.
func Verify(ctx context.Context, s Storage, code string, heads ...ledger.HeadRef) ([]Verified, error) {
	var codes []string
	if code != "" {
		if err := checkCode(code); err != nil {
			return nil, err
		}
		codes = []string{code}
	} else {
		var err error
		if codes, err = s.Discover(ctx); err != nil {
			return nil, err
		}
		if len(codes) == 0 {
			return nil, fmt.Errorf("host: verify: %w in %s", ErrNoRegistry, s.Where())
		}
	}
	var out []Verified
	for _, c := range codes {
		rep, err := verifyOne(ctx, s, c, heads)
		if err != nil {
			return out, err
		}
		out = append(out, Verified{Code: c, Report: rep})
	}
	return out, nil
}

func verifyOne(ctx context.Context, s Storage, code string, heads []ledger.HeadRef) (registry.Report, error) {
	db, err := store.OpenReadOnly(ctx, s.Store(code))
	if errors.Is(err, store.ErrNotFound) {
		return registry.Report{}, fmt.Errorf("host: verify: %w %s in %s (%v)", ErrNoRegistry, code, s.Where(), err)
	}
	if err != nil {
		return registry.Report{}, fmt.Errorf("host: verify %s: %w", code, err)
	}
	defer db.Close()
	switch got, err := db.Meta(ctx, "registry_code"); {
	case err != nil:
		return registry.Report{}, fmt.Errorf("host: verify %s: %w", code, err)
	case got == "":
		return registry.Report{}, fmt.Errorf("host: verify: %w %s in %s (its database has tables but no registry code: no node was ever opened on it)", ErrNoRegistry, code, s.Where())
	}
	rep, err := registry.Verify(ctx, db)
	if err != nil {
		return rep, fmt.Errorf("host: verify %s: %w", code, err)
	}
	kept, err := registry.CheckHeads(ctx, db, heads)
	if err != nil {
		return rep, fmt.Errorf("host: verify %s: %w", code, err)
	}
	rep.Violations = append(kept, rep.Violations...)
	return rep, nil
}
