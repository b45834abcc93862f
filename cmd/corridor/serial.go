package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

func newSerialCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "serial SERIAL",
		Short: "Look up a serial block: its issuance, current blocks and history (across registries)",
		Long: `Look up a serial number or block (REGISTRY-UNITTYPE-PROJECT-VINTAGE-ISSUANCE-START-END)
in --registry and print the blocks that now hold the range there, the blocks of it in
the other registries of this server, and one history of every event that touched it in
any registry of this server, in time order, each naming its registry: the origin's
journal entries (issuance, transfers, escrow, export) and each acquiring registry's
(import and after). Serials keep their origin registry's form wherever the units go,
so --registry only chooses whose blocks come first (default CN). Without a token (or
with a holder's) account numbers are left out; an admin or auditor token of
--registry shows them, with each request's details, for that registry's events (the
other registries are read without the token).` + exitCodesHelp,
		Example: `  corridor serial CN-CCER-CCER-DEMO-0001-2024-1-1-250000
  corridor serial CN-CCER-CCER-DEMO-0001-2024-1-1-500 --registry TH
  corridor serial CN-CCER-CCER-DEMO-0001-2024-1-500-500 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := f.client().Serial(cmd.Context(), f.registry, args[0])
			if err != nil {
				return f.apiError("serial", err)
			}
			view, err := lookupElsewhere(cmd.Context(), &f, args[0], info)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, view)
			}
			return printSerial(out, f.registry, view)
		},
	}
	f.add(cmd.Flags())
	return cmd
}

// serialAcross is `corridor serial --json`: the view of --registry, the
// views of the other registries of the server that have the range, and
// one history across them all.
type serialAcross struct {
	registry.SerialInfo
	// History is every registry's events, in time order, each with its
	// registry (it replaces the looked-up registry's own history).
	History []registry.HistoryItem `json:"history"`
	// Origin is the origin registry's view when --registry is another.
	Origin *registry.SerialInfo `json:"origin,omitempty"`
	// Elsewhere has the views of the other registries that have a record
	// of the range, by registry code (the origin is in Origin).
	Elsewhere map[string]registry.SerialInfo `json:"elsewhere,omitempty"`
	// Note says whose history could not be read (the origin not served).
	Note string `json:"note,omitempty"`
}

// lookupElsewhere looks the serial up in every other registry this server
// runs (without the token, which belongs to --registry) and merges the
// histories. A registry with no record of the range (404) is left out.
func lookupElsewhere(ctx context.Context, f *apiFlags, serial string, info registry.SerialInfo) (serialAcross, error) {
	view := serialAcross{SerialInfo: info}
	origin := originOf(serial)
	regs, err := f.client().Registries(ctx)
	if err != nil {
		return view, f.apiError("serial (registries)", err)
	}
	anon := f.client()
	anon.Token = ""
	var codes []string
	servesOrigin := origin == f.registry
	for _, r := range regs {
		if !r.Served || r.Code == f.registry || r.Role == "hub" {
			continue
		}
		if r.Code == origin {
			servesOrigin = true
		}
		codes = append(codes, r.Code)
	}
	slices.Sort(codes)
	var fromOrigin *registry.SerialInfo
	if f.registry == origin {
		fromOrigin = &info
	}
	var others []registry.SerialInfo
	for _, code := range codes {
		o, err := anon.Serial(ctx, code, serial)
		var p *client.Problem
		if errors.As(err, &p) && p.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return view, f.apiError("serial (in "+code+")", err)
		}
		if code == origin {
			view.Origin, fromOrigin = &o, &o
			continue
		}
		if view.Elsewhere == nil {
			view.Elsewhere = map[string]registry.SerialInfo{}
		}
		view.Elsewhere[code] = o
		others = append(others, o)
	}
	// The origin first (at one instant its export precedes the import),
	// then --registry, then the others.
	var infos []registry.SerialInfo
	if fromOrigin != nil {
		infos = append(infos, *fromOrigin)
	}
	if f.registry != origin {
		infos = append(infos, info)
	}
	infos = append(infos, others...)
	if !servesOrigin {
		view.Note = fmt.Sprintf("the origin registry %s is not on this server: its history is not shown", origin)
	}
	view.History = registry.MergeHistory(infos...)
	return view, nil
}

// printSerial prints the lookup: the issuance (when it was issued at its
// origin, and for a record of a foreign issuance when the import made
// it), the blocks here and elsewhere, and the history across registries.
func printSerial(out io.Writer, reg string, v serialAcross) error {
	x := v.Issuance
	origin := originOf(v.Serial)
	issued := "issued in " + origin + " " + x.CreatedAt.UTC().Format(time.RFC3339)
	if x.Origin != nil {
		// This registry's record was made by the first import: its
		// creation time is the import's, not the issuance's.
		issued = "issued in " + origin + " (the origin is not on this server: time not known here)"
		if v.Origin != nil {
			issued = "issued in " + origin + " " + v.Origin.Issuance.CreatedAt.UTC().Format(time.RFC3339)
		}
	}
	fmt.Fprintf(out, "Serial %s\n  issuance      %s (%s), %s, %s\n", v.Serial, issuanceName(x), x.Serial, count(x.Quantity, "unit", "units"), issued)
	if x.Origin != nil {
		fmt.Fprintf(out, "  recorded      in %s as issuance %d by the first import, %s\n", reg, x.ID, x.CreatedAt.UTC().Format(time.RFC3339))
	}
	// Project name and methodology are optional at issuance: an empty
	// one is left out, not printed as "" or a blank line.
	if x.ProjectName != "" {
		fmt.Fprintf(out, "  project       %s %q\n", x.Project, x.ProjectName)
	} else {
		fmt.Fprintf(out, "  project       %s\n", x.Project)
	}
	if x.Methodology != "" {
		fmt.Fprintf(out, "  methodology   %s\n", x.Methodology)
	}
	fmt.Fprintf(out, "  vintage       %d, host country %s, standard %s\n", x.Vintage, x.HostCountry, x.Standard)
	fmt.Fprintf(out, "\nBlocks now in %s (%s)\n", reg, count(len(v.Blocks), "block", "blocks"))
	if err := printSerialBlocks(out, v.Blocks, v.Frozen); err != nil {
		return err
	}
	if len(v.Frozen) > 0 {
		fmt.Fprintf(out, "\nFrozen in %s (%s; the units keep their state but cannot move until an administrator unfreezes them)\n", reg, count(len(v.Frozen), "freeze", "freezes"))
		t := newTable(out, "FREEZE", "RANGE", "FINDING", "RECONCILIATION")
		for _, z := range v.Frozen {
			t.row(z.Freeze, fmt.Sprintf("%d-%d", z.Start, z.End), z.Code, z.Reconciliation)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(v.ITMOs) > 0 {
		fmt.Fprintf(out, "\nITMOs (Article 6 identifiers of the units imported into %s)\n", reg)
		t := newTable(out, "RANGE", "FIRST ITMO", "LAST ITMO", "AUTHORISATION", "TRANSFER")
		for _, it := range v.ITMOs {
			t.row(fmt.Sprintf("%d-%d", it.Start, it.End), it.First, it.Last, fmt.Sprintf("%s v%d", it.Authorisation, it.Version), it.Transfer)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if other := otherBlocks(v); len(other) > 0 {
		fmt.Fprintf(out, "\nBlocks in other registries (%s)\n", count(len(other), "block", "blocks"))
		t := newTable(out, "REGISTRY", "SERIAL", "QUANTITY", "STATE", "ACCOUNT", "PENDING")
		for _, b := range other {
			t.row(b.reg, b.Serial, b.Quantity, string(b.State), optID(b.AccountID), optID(b.Pending))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	var regs []string
	for _, h := range v.History {
		if !slices.Contains(regs, h.Registry) {
			regs = append(regs, h.Registry)
		}
	}
	fmt.Fprintf(out, "\nHistory (%s in %s, in time order)\n", count(len(v.History), "event", "events"), strings.Join(regs, ", "))
	t := newTable(out, "REGISTRY", "SEQ", "AT", "KIND", "RANGE", "FROM", "TO", "STATE", "DETAILS")
	for _, h := range v.History {
		t.row(h.Registry, h.Seq, h.At.UTC().Format(time.RFC3339Nano), h.Kind, fmt.Sprintf("%d-%d", h.Start, h.End), optID(h.FromAccount), optID(h.ToAccount),
			stateChange(h.FromState, h.ToState), compactJSON(h.Details))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if v.Note != "" {
		fmt.Fprintf(out, "(%s)\n", v.Note)
	}
	return nil
}

// printSerialBlocks is printBlocks with the state of a block that meets a
// freeze marked "held, frozen (freeze N)": a frozen block keeps its state
// but is not free to move, so "held" alone would say it is.
func printSerialBlocks(out io.Writer, blocks []registry.BlockView, frozen []registry.SerialFreeze) error {
	t := newTable(out, "SERIAL", "QUANTITY", "STATE", "ACCOUNT", "PENDING")
	for _, b := range blocks {
		state := string(b.State)
		var ids []string
		for _, z := range frozen {
			if z.Start <= b.End && b.Start <= z.End {
				ids = append(ids, strconv.FormatInt(z.Freeze, 10))
			}
		}
		if len(ids) > 0 {
			state += ", frozen (freeze " + strings.Join(ids, ", ") + ")"
		}
		t.row(b.Serial, b.Quantity, state, optID(b.AccountID), optID(b.Pending))
	}
	return t.flush()
}

// issuanceName names an issuance by its origin: "CN issuance 2".
func issuanceName(x registry.IssuanceView) string {
	if x.Origin != nil {
		return fmt.Sprintf("%s issuance %d", x.Origin.Registry, x.Origin.Issuance)
	}
	s, err := ledger.ParseSerial(x.Serial)
	if err != nil {
		return fmt.Sprintf("issuance %d", x.ID)
	}
	return fmt.Sprintf("%s issuance %d", s.Registry, x.ID)
}

type regBlock struct {
	reg string
	registry.BlockView
}

// otherBlocks are the blocks of the range in the other registries that
// are there (not exported: exported means elsewhere), origin first.
func otherBlocks(v serialAcross) []regBlock {
	var out []regBlock
	add := func(reg string, bs []registry.BlockView) {
		for _, b := range bs {
			if b.State != ledger.Exported {
				out = append(out, regBlock{reg, b})
			}
		}
	}
	if v.Origin != nil {
		add(originOf(v.Serial), v.Origin.Blocks)
	}
	codes := make([]string, 0, len(v.Elsewhere))
	for c := range v.Elsewhere {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		add(c, v.Elsewhere[c].Blocks)
	}
	return out
}

// originOf is the registry that issued the serial (its first field), or "".
func originOf(serial string) string {
	s, err := ledger.ParseSerial(serial)
	if err != nil {
		return ""
	}
	return s.Registry
}
