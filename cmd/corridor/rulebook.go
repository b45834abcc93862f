package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

func newRulebookCmd() *cobra.Command {
	var format string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rulebook",
		Short: "Query the rulebook: jurisdictions, instruments, schemes, recognition, MRV, eligibility",
		Long: `Query Corridor's embedded rulebook. Every rule carries its source; rules whose
text could not be checked are marked unverified, and answers that rely on them say so.

Exit codes: 0 ok, 1 internal error, 2 bad input, 3 not eligible (eligibility only).
--json prints JSON (--format json, or env CORRIDOR_FORMAT=json, is the older spelling).
Environment: CORRIDOR_FORMAT (text or json).`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if !asJSON {
				return nil
			}
			if cmd.Flags().Changed("format") && format != "json" {
				return &exitError{code: exitUsage, err: fmt.Errorf("rulebook: --json and --format %s ask for two outputs: give one", format)}
			}
			format = "json"
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRulebook(format)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				return writeRulebookJSON(out, map[string]any{"rulebook_version": rb.Version(), "files": rb.Versions})
			}
			if err := rb.WriteSummary(out); err != nil {
				return err
			}
			fmt.Fprintln(out, "Subcommands: jurisdictions, instruments, schemes, scheme ID, sources, methodologies, recognition, mrv, eligibility.")
			return nil
		},
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print the answer as JSON")
	cmd.PersistentFlags().StringVar(&format, "format", envDefault("CORRIDOR_FORMAT", "text"), "output format: text or json (env CORRIDOR_FORMAT); the same as --json (older spelling)")
	_ = cmd.PersistentFlags().MarkHidden("format")
	cmd.AddCommand(
		rulebookJurisdictionsCmd(&format), rulebookInstrumentsCmd(&format), rulebookSchemesCmd(&format),
		rulebookSchemeCmd(&format), rulebookSourcesCmd(&format), rulebookMethodologiesCmd(&format),
		rulebookRecognitionCmd(&format), rulebookMRVCmd(&format), rulebookEligibilityCmd(&format),
	)
	return cmd
}

func loadRulebook(format string) (*rulebook.Rulebook, error) {
	if format != "text" && format != "json" {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("rulebook: --format must be text or json, not %q", format)}
	}
	return rulebook.Default()
}

// badRulebookInput turns a rulebook.InputError into exit code 2.
func badRulebookInput(err error) error {
	var ie *rulebook.InputError
	if errors.As(err, &ie) {
		if flag, ok := eligibilityFlags[ie.Field]; ok {
			return &exitError{code: exitUsage, err: fmt.Errorf("rulebook: %s: %s", flag, ie.Problem)}
		}
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

// eligibilityFlags names, for each field of a rulebook.EligibilityRequest
// (as the API and the rulebook's errors name it), the flag of `rulebook
// eligibility` that sets it.
var eligibilityFlags = map[string]string{
	"unit.instrument": "--instrument", "unit.programme": "--programme", "unit.methodology": "--methodology",
	"unit.host": "--host", "unit.vintage": "--vintage", "unit.corresponding_adjustment": "--ca",
	"unit.registry": "--registry", "unit.registered": "--registered", "unit.quantity": "--quantity",
	"use.scheme": "--scheme", "use.entity": "--entity", "use.compliance_year": "--year",
	"use.obligation_tonnes": "--obligation", "use.already_used_tonnes": "--used", "use.date": "--date",
}

// eligibilityFieldNames matches the request fields a finding may name
// ("give use.date for the day of surrender").
var eligibilityFieldNames = regexp.MustCompile(`\b(unit|use)\.[a-z_]+\b`)

// flagsInFindings rewrites the request field names in a decision's findings
// as the CLI flags that set them.
func flagsInFindings(d *rulebook.Decision) {
	for i := range d.Reasons {
		d.Reasons[i].Finding = eligibilityFieldNames.ReplaceAllStringFunc(d.Reasons[i].Finding, func(f string) string {
			if flag, ok := eligibilityFlags[f]; ok {
				return flag
			}
			return f
		})
	}
}

func writeRulebookJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeRulebook writes v as JSON when format is json, else with text.
func writeRulebook[T any](w io.Writer, format string, v T, text func(io.Writer, T) error) error {
	if format == "json" {
		return writeRulebookJSON(w, v)
	}
	return text(w, v)
}

// rulebookAnswer is the RunE of a subcommand that prints one answer of the
// rulebook: answer finds it (a rulebook.InputError is bad input), text
// writes it unless --format is json.
func rulebookAnswer[T any](format *string, answer func(rb *rulebook.Rulebook, args []string) (T, error), text func(rb *rulebook.Rulebook, w io.Writer, v T) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		rb, err := loadRulebook(*format)
		if err != nil {
			return err
		}
		v, err := answer(rb, args)
		if err != nil {
			return badRulebookInput(err)
		}
		return writeRulebook(cmd.OutOrStdout(), *format, v, func(w io.Writer, v T) error { return text(rb, w, v) })
	}
}

// plainText adapts a writer that needs no rulebook to rulebookAnswer.
func plainText[T any](write func(io.Writer, T) error) func(*rulebook.Rulebook, io.Writer, T) error {
	return func(_ *rulebook.Rulebook, w io.Writer, v T) error { return write(w, v) }
}

func rulebookJurisdictionsCmd(format *string) *cobra.Command {
	return &cobra.Command{
		Use:   "jurisdictions",
		Short: "List jurisdictions",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) ([]rulebook.Jurisdiction, error) {
			return rb.Jurisdictions(), nil
		}, plainText(rulebook.WriteJurisdictions)),
	}
}

func rulebookInstrumentsCmd(format *string) *cobra.Command {
	var jurisdiction string
	c := &cobra.Command{
		Use:   "instruments",
		Short: "List instruments (unit types)",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) ([]rulebook.Instrument, error) {
			return rb.Instruments(jurisdiction), checkJurisdictionFlag(rb, jurisdiction)
		}, plainText(rulebook.WriteInstruments)),
	}
	c.Flags().StringVar(&jurisdiction, "jurisdiction", "", "only this jurisdiction's instruments (e.g. ID)")
	return c
}

func checkJurisdictionFlag(rb *rulebook.Rulebook, code string) error {
	if code == "" {
		return nil
	}
	if _, ok := rb.Jurisdiction(code); !ok {
		return &exitError{code: exitUsage, err: fmt.Errorf("rulebook: --jurisdiction: unknown jurisdiction %q", code)}
	}
	return nil
}

func rulebookSchemesCmd(format *string) *cobra.Command {
	var jurisdiction string
	c := &cobra.Command{
		Use:   "schemes",
		Short: "List compliance schemes and their offset/credit limits",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) ([]rulebook.Scheme, error) {
			return rb.Schemes(jurisdiction), checkJurisdictionFlag(rb, jurisdiction)
		}, plainText(rulebook.WriteSchemes)),
	}
	c.Flags().StringVar(&jurisdiction, "jurisdiction", "", "only this jurisdiction's schemes (e.g. CN)")
	return c
}

func rulebookSchemeCmd(format *string) *cobra.Command {
	return &cobra.Command{
		Use:   "scheme ID",
		Short: "Show one scheme's rules with their sources",
		Args:  cobra.ExactArgs(1),
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, args []string) (rulebook.Scheme, error) {
			s, ok := rb.Scheme(args[0])
			if !ok {
				ids := []string{}
				for _, s := range rb.Schemes("") {
					ids = append(ids, s.ID)
				}
				return s, &exitError{code: exitUsage, err: fmt.Errorf("rulebook: unknown scheme %q (known: %s)", args[0], strings.Join(ids, ", "))}
			}
			return s, nil
		}, (*rulebook.Rulebook).WriteScheme),
	}
}

func rulebookSourcesCmd(format *string) *cobra.Command {
	return &cobra.Command{
		Use:   "sources",
		Short: "List every cited source and what of it was checked",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) ([]rulebook.Source, error) {
			return rb.Sources(), nil
		}, plainText(rulebook.WriteSources)),
	}
}

func rulebookMethodologiesCmd(format *string) *cobra.Command {
	var programme, sector string
	c := &cobra.Command{
		Use:   "methodologies",
		Short: "List methodology records by programme and sector",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) ([]rulebook.Methodology, error) {
			return rb.Methodologies(programme, sector), nil
		}, plainText(rulebook.WriteMethodologies)),
	}
	c.Flags().StringVar(&programme, "programme", "", "only this programme (e.g. VCS)")
	c.Flags().StringVar(&sector, "sector", "", "only this sector (e.g. cement)")
	return c
}

func rulebookRecognitionCmd(format *string) *cobra.Command {
	var sector, a, b string
	c := &cobra.Command{
		Use:   "recognition",
		Short: "Mutual-recognition matrix of programmes for a sector (or one pair with --a and --b)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRulebook(*format)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if a != "" || b != "" {
				cell, err := rb.Recognition(a, b, sector)
				if err != nil {
					return badRulebookInput(err)
				}
				return writeRulebook(out, *format, cell, func(w io.Writer, cell rulebook.MatrixCell) error {
					return rulebook.WriteRecognitionCell(w, cell, sector)
				})
			}
			m, err := rb.RecognitionMatrix(sector)
			if err != nil {
				return badRulebookInput(err)
			}
			return writeRulebook(out, *format, m, rulebook.WriteRecognitionMatrix)
		},
	}
	c.Flags().StringVar(&sector, "sector", "power", "sector: power, steel or cement")
	c.Flags().StringVar(&a, "a", "", "first programme of a single pair (e.g. SPE-GRK)")
	c.Flags().StringVar(&b, "b", "", "second programme of a single pair (e.g. GS)")
	return c
}

func rulebookMRVCmd(format *string) *cobra.Command {
	var sector string
	c := &cobra.Command{
		Use:   "mrv",
		Short: "MRV rules side by side (China ETS, Viet Nam ETS, EU CBAM) for a sector",
		Args:  cobra.NoArgs,
		RunE: rulebookAnswer(format, func(rb *rulebook.Rulebook, _ []string) (rulebook.MRVTable, error) {
			return rb.MRVComparison(sector)
		}, plainText(rulebook.WriteMRV)),
	}
	c.Flags().StringVar(&sector, "sector", "steel", "sector: power, steel, cement or aluminium")
	return c
}

func rulebookEligibilityCmd(format *string) *cobra.Command {
	var req rulebook.EligibilityRequest
	c := &cobra.Command{
		Use:   "eligibility",
		Short: "May this unit be used toward this obligation, and how much of it?",
		Long: `Decide whether a unit may be used in a compliance scheme and the maximum
quantity, with every reason naming its rule and source. The cap is rounded
down to whole tonnes (5% of 12,345 t = 617.25 t -> 617 t).

Example:
  corridor rulebook eligibility --instrument CCER --host CN --vintage 2024 \
      --registered 2024-06-01 --scheme CN-ETS --year 2025 --obligation 12345

Rules that depend on a date (a Singapore implementation agreement being
operational, China's bar on CCERs registered before 14 March 2017) are
judged on --date, or on 31 December of --year when it is not given.

Exit code 3 when the unit is not eligible, 2 on bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := loadRulebook(*format)
			if err != nil {
				return err
			}
			d, err := rb.Eligibility(req)
			if err != nil {
				return badRulebookInput(err)
			}
			flagsInFindings(&d)
			if err := writeRulebook(cmd.OutOrStdout(), *format, d, rulebook.WriteDecision); err != nil {
				return err
			}
			if !d.Allowed {
				return &exitError{code: exitRejected, err: fmt.Errorf("rulebook: %s not eligible for %s", d.Instrument, d.Scheme)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&req.Unit.Instrument, "instrument", "", "instrument code, e.g. CCER, VCU, GS-VER, JCM-CREDIT, SPE-GRK (required)")
	f.StringVar(&req.Unit.Programme, "programme", "", "crediting programme (defaults to the instrument's)")
	f.StringVar(&req.Unit.Methodology, "methodology", "", "methodology code (informational)")
	f.StringVar(&req.Unit.Host, "host", "", "host jurisdiction where the reductions happened, e.g. TH (required)")
	f.IntVar(&req.Unit.Vintage, "vintage", 0, "vintage year of the reductions (required)")
	f.BoolVar(&req.Unit.Authorised, "authorised", false, "the host has authorised the units (Article 6)")
	f.BoolVar(&req.Unit.CorrespondingAdjustment, "ca", false, "a corresponding adjustment is applied (needs --authorised)")
	f.StringVar(&req.Unit.Registry, "registry", "", "registry of record, e.g. IDX")
	f.StringVar(&req.Unit.Registered, "registered", "", "date the units were registered (备案), YYYY-MM-DD; required for CCERs used from 2025-01-01")
	f.Int64Var(&req.Unit.Quantity, "quantity", 0, "tonnes offered (0: report the maximum only)")
	f.StringVar(&req.Use.Scheme, "scheme", "", "compliance scheme: CN-ETS, SG-CT, VN-ETS, JP-GX-ETS, ID-ETS (required)")
	f.StringVar(&req.Use.Entity, "entity", "", "the obliged entity (informational)")
	f.IntVar(&req.Use.ComplianceYear, "year", 0, "compliance year (required)")
	f.Int64Var(&req.Use.Obligation, "obligation", 0, "the entity's obligation for the year, tonnes")
	f.Int64Var(&req.Use.AlreadyUsed, "used", 0, "capped credits already used this year, tonnes")
	f.StringVar(&req.Use.Date, "date", "", "day of surrender, YYYY-MM-DD, for date-dependent rules (default: 31 December of --year)")
	return c
}
