package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/strictjson"
)

// Kind is one transaction kind: its request type and everything derived
// from it (decoder, apply function, who may submit it, its API route and
// OpenAPI schema). Kinds is the only list of kinds; apply, DecodeRequest,
// the API's routes and the client's paths all read it, and a test checks
// that each kind has every part.
type Kind struct {
	// Name is the journal's kind, from the request type's Kind method.
	Name string
	// Route is the write endpoint under /api/v1/registries/{registry}
	// (always POST); "" for kinds only the node itself or the hub submits.
	Route string
	// PathID is the JSON name of the request field that the route's {id}
	// segment carries ("" when the route has none). The body must not
	// repeat it.
	PathID string
	// BodyOptional is true when the endpoint accepts an empty body.
	BodyOptional bool
	// Schema is the OpenAPI component schema of the request body.
	Schema string
	// Roles may submit the kind; apply refuses every other role.
	Roles []ledger.Role
	// Type is the request's Go type.
	Type reflect.Type

	decode func(raw []byte) (Request, error)
	apply  func(n *Node, w *writeSet, a Actor, r Request, res *Result) error
	id     func(r Request) int64
	withID func(r Request, id int64) Request
}

// Roles of actors that are not API token roles: the hub and a trading venue
// act as settlement authorities of escrows; the node's own expiry ticker
// acts as the system.
const (
	RoleHub    ledger.Role = "hub"
	RoleVenue  ledger.Role = "venue"
	RoleSystem ledger.Role = "system"
)

var (
	adminOnly  = []ledger.Role{ledger.RoleAdmin}
	movers     = []ledger.Role{ledger.RoleAdmin, ledger.RoleHolder}
	settlers   = []ledger.Role{ledger.RoleAdmin, RoleHub, RoleVenue}
	systemOnly = []ledger.Role{RoleSystem}
	hubOnly    = []ledger.Role{RoleHub}
)

// Kinds lists every transaction kind.
var Kinds = []Kind{
	define(Kind{Route: "/organisations", Schema: "CreateOrganisation", Roles: adminOnly}, (*Node).createOrganisation, nil),
	define(Kind{Route: "/accounts", Schema: "OpenAccount", Roles: adminOnly}, (*Node).openAccount, nil),
	define(Kind{Route: "/accounts/{id}/status", PathID: "account_id", Schema: "AccountStatus", Roles: adminOnly}, (*Node).setAccountStatus,
		func(r *SetAccountStatus) *int64 { return &r.AccountID }),
	define(Kind{Route: "/issuances", Schema: "Issue", Roles: adminOnly}, (*Node).issue, nil),
	define(Kind{Route: "/transfers", Schema: "Transfer", Roles: movers}, (*Node).transfer, nil),
	define(Kind{Route: "/retirements", Schema: "Retire", Roles: movers}, (*Node).retire, nil),
	define(Kind{Route: "/cancellations", Schema: "Cancel", Roles: movers}, (*Node).cancel, nil),
	define(Kind{Route: "/reservations", Schema: "Reserve", Roles: movers}, (*Node).reserve, nil),
	define(Kind{Route: "/reservations/{id}/complete", PathID: "pending", BodyOptional: true, Schema: "Complete", Roles: settlers}, (*Node).complete,
		func(r *Complete) *int64 { return &r.Pending }),
	define(Kind{Route: "/reservations/{id}/void", PathID: "pending", BodyOptional: true, Schema: "Void", Roles: settlers}, (*Node).void,
		func(r *Void) *int64 { return &r.Pending }),
	define(Kind{Schema: "Expire", Roles: systemOnly}, (*Node).expire, nil),
	define(Kind{Route: "/tokens", Schema: "CreateToken", Roles: adminOnly}, (*Node).createToken, nil),
	define(Kind{Schema: "Import", Roles: hubOnly}, (*Node).importUnits, nil),
	define(Kind{Schema: "Freeze", Roles: hubOnly}, (*Node).freeze, nil),
	define(Kind{Route: "/freezes/{id}/unfreeze", PathID: "freeze", Schema: "Unfreeze", Roles: adminOnly}, (*Node).unfreeze,
		func(r *Unfreeze) *int64 { return &r.Freeze }),
	// Article 6 (article6.go): the host Party's authorisations, and
	// issuance under one with its deductions.
	define(Kind{Route: "/authorisations", Schema: "Authorise", Roles: adminOnly}, (*Node).authorise, nil),
	define(Kind{Route: "/authorisations/amendments", Schema: "AmendAuthorisation", Roles: adminOnly}, (*Node).amendAuthorisation, nil),
	define(Kind{Route: "/authorisations/revocations", Schema: "RevokeAuthorisation", Roles: adminOnly}, (*Node).revokeAuthorisation, nil),
	define(Kind{Route: "/issuances/authorised", Schema: "IssueAuthorised", Roles: adminOnly}, (*Node).issueAuthorised, nil),
	// Singapore's carbon tax (icc.go): a facility's taxable emissions.
	define(Kind{Route: "/emissions", Schema: "ReportEmissions", Roles: adminOnly}, (*Node).reportEmissions, nil),
}

var kindByName = func() map[string]*Kind {
	m := map[string]*Kind{}
	for i := range Kinds {
		m[Kinds[i].Name] = &Kinds[i]
	}
	return m
}()

// define fills in a Kind from its request type T and typed apply function.
func define[T Request](k Kind, apply func(*Node, *writeSet, Actor, T, *Result) error, id func(*T) *int64) Kind {
	var zero T
	k.Name = zero.Kind()
	k.Type = reflect.TypeFor[T]()
	k.apply = func(n *Node, w *writeSet, a Actor, r Request, res *Result) error { return apply(n, w, a, r.(T), res) }
	k.decode = func(raw []byte) (Request, error) {
		var v T
		if err := strictjson.Decode(raw, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	if id != nil {
		k.id = func(r Request) int64 { v := r.(T); return *id(&v) }
		k.withID = func(r Request, x int64) Request { v := r.(T); *id(&v) = x; return v }
	}
	return k
}

// KindOf returns the kind of name, or nil.
func KindOf(name string) *Kind { return kindByName[name] }

// KindFor returns the kind of a request, or nil.
func KindFor(r Request) *Kind {
	if r == nil {
		return nil
	}
	k := kindByName[r.Kind()]
	if k == nil || reflect.TypeOf(r) != k.Type {
		return nil
	}
	return k
}

// MayCall reports whether the actor's role may submit this kind.
func (k *Kind) MayCall(a Actor) bool { return slices.Contains(k.Roles, a.Role) }

// Decode decodes a request of this kind from JSON strictly: unknown fields,
// duplicate keys and trailing data are refused (*strictjson.Error).
func (k *Kind) Decode(raw []byte) (Request, error) { return k.decode(raw) }

// ID is the path id a request carries (0 when the route has none).
func (k *Kind) ID(r Request) int64 {
	if k.id == nil {
		return 0
	}
	return k.id(r)
}

// WithID returns r with its path id set.
func (k *Kind) WithID(r Request, id int64) Request {
	if k.withID == nil {
		return r
	}
	return k.withID(r, id)
}

// Path is the route with the request's id filled in.
func (k *Kind) Path(r Request) string {
	return strings.Replace(k.Route, "{id}", strconv.FormatInt(k.ID(r), 10), 1)
}

// Body is the request's JSON body as the endpoint takes it: without the
// field the path carries.
func (k *Kind) Body(r Request) (json.RawMessage, error) {
	raw, err := json.Marshal(r)
	if err != nil || k.PathID == "" {
		return raw, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, k.PathID)
	return json.Marshal(m)
}

// DecodeRequest decodes a request of the named kind from JSON, refusing
// unknown fields, duplicate keys and trailing data.
func DecodeRequest(kind string, raw []byte) (Request, error) {
	k := KindOf(kind)
	if k == nil {
		return nil, fmt.Errorf("unknown transaction kind %q", kind)
	}
	req, err := k.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("request of kind %s: %w", kind, err)
	}
	return req, nil
}
