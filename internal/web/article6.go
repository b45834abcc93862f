package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/corridor-carbon/corridor/internal/article6report"
	"github.com/corridor-carbon/corridor/internal/numfmt"
)

// Article6Ledger is the hub's Article 6 ledger as the pages read it
// (*hub.Article6 implements it).
type Article6Ledger interface {
	Ledger(ctx context.Context, fn func(*article6.Ledger) error) error
}

// WithArticle6 gives the site the hub's Article 6 ledger for the Article 6
// pages; without it they say the server keeps none.
func (s *Site) WithArticle6(l Article6Ledger) *Site {
	s.article6 = l
	return s
}

// article6Page is the Article 6 page of one Party and year.
type article6Page struct {
	Wired          bool
	Unreadable     bool
	Parties        []string
	Party          string
	Year           int
	Years          []int
	Authorisations []article6report.Authorisation
	ITMOs          []article6report.ITMO
	Adjustments    []article6report.Adjustment
	Balance        []balanceRow
	Chart          balanceChart
	AEF            []article6.Table
}

// aefYears are the years the page offers: the NDC period the balances use.
const aefFirstYear, aefLastYear = 2021, 2030

func (s *Site) handleArticle6(w http.ResponseWriter, r *http.Request) {
	d := article6Page{Wired: s.article6 != nil}
	for y := aefFirstYear; y <= aefLastYear; y++ {
		d.Years = append(d.Years, y)
	}
	if !d.Wired {
		s.render(w, r, "article6.html", d)
		return
	}
	party, year, ok := s.article6Params(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	err := s.article6.Ledger(ctx, func(l *article6.Ledger) error {
		if party != "" {
			p, err := article6report.ParseParty(l.Config().Approaches, party)
			if err != nil {
				return err
			}
			party = p
		}
		all := article6report.Authorisations(l, "")
		for _, a := range all {
			if !slices.Contains(d.Parties, a.Host) {
				d.Parties = append(d.Parties, a.Host)
			}
		}
		for _, a := range article6report.Adjustments(l, "") {
			if !slices.Contains(d.Parties, a.Party) {
				d.Parties = append(d.Parties, a.Party)
			}
		}
		slices.Sort(d.Parties)
		if party == "" && len(d.Parties) > 0 {
			party = d.Parties[0]
		}
		d.Party, d.Year = party, year
		if party == "" {
			return nil
		}
		d.Authorisations = article6report.Authorisations(l, party)
		d.ITMOs = article6report.ITMOs(l, party)
		d.Adjustments = article6report.Adjustments(l, party)
		bs, err := article6report.Balances(l, article6report.BalanceParams{Parties: []string{party}, Method: article6.MultiYearTrajectory, FirstYear: aefFirstYear, LastYear: aefLastYear})
		if err != nil {
			return err
		}
		d.Balance = balanceRows(bs[0].Rows)
		d.Chart = chartOf(bs[0].Rows)
		aef, err := l.BuildAEF(article6.Submission{Party: party, Version: 1, Year: year, NDCFirstYear: aefFirstYear, NDCLastYear: aefLastYear})
		if err != nil {
			return err
		}
		d.AEF = aef.Tables
		return nil
	})
	if err != nil {
		if s.article6Refused(w, r, err) {
			return
		}
		slog.WarnContext(r.Context(), "web: article 6 ledger", "err", err)
		d.Unreadable = true
	}
	s.render(w, r, "article6.html", d)
}

// article6Refused answers 400 when err is the visitor's mistake (a Party
// of no approach, a code the AEF refuses) and reports whether it did; any
// other error is the ledger's and the caller says it could not be read.
func (s *Site) article6Refused(w http.ResponseWriter, r *http.Request, err error) bool {
	var pe *article6report.PartyError
	if errors.As(err, &pe) {
		if pe.Code == article6report.CodePartyUnknown {
			s.renderError(w, r, http.StatusBadRequest, "article6.unknown_party")
		} else {
			s.renderError(w, r, http.StatusBadRequest, "article6.bad_party")
		}
		return true
	}
	var ae *article6.Error
	if errors.As(err, &ae) {
		s.renderError(w, r, http.StatusBadRequest, "article6.refused", ae.Detail)
		return true
	}
	return false
}

// article6Params reads ?party= (optional; checked against the ledger's
// Parties by article6report.ParseParty) and ?year= (default: this year,
// within the NDC period), answering 400 for a malformed year.
func (s *Site) article6Params(w http.ResponseWriter, r *http.Request) (string, int, bool) {
	q := r.URL.Query()
	party := q.Get("party")
	year := min(max(time.Now().UTC().Year(), aefFirstYear), aefLastYear)
	if v := q.Get("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < aefFirstYear || n > aefLastYear {
			s.renderError(w, r, http.StatusBadRequest, "article6.bad_year", aefFirstYear, aefLastYear)
			return "", 0, false
		}
		year = n
	}
	return party, year, true
}

// handleArticle6AEF downloads a Party's AEF for a year: one table as CSV
// (?table=) or the workbook (format=xlsx), with the article6 writers.
func (s *Site) handleArticle6AEF(w http.ResponseWriter, r *http.Request) {
	if s.article6 == nil {
		s.renderError(w, r, http.StatusServiceUnavailable, "article6.not_wired")
		return
	}
	party, year, ok := s.article6Params(w, r)
	if !ok {
		return
	}
	if party == "" {
		s.renderError(w, r, http.StatusBadRequest, "article6.bad_party")
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "xlsx" {
		s.renderError(w, r, http.StatusBadRequest, "article6.bad_format")
		return
	}
	var aef article6.AEF
	err := s.article6.Ledger(r.Context(), func(l *article6.Ledger) error {
		p, err := article6report.ParseParty(l.Config().Approaches, party)
		if err != nil {
			return err
		}
		party = p
		aef, err = l.BuildAEF(article6.Submission{Party: party, Version: 1, Year: year, NDCFirstYear: aefFirstYear, NDCLastYear: aefLastYear})
		return err
	})
	if err != nil {
		if s.article6Refused(w, r, err) {
			return
		}
		slog.WarnContext(r.Context(), "web: article 6 AEF", "err", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "article6.unreadable")
		return
	}
	var buf bytes.Buffer
	name := fmt.Sprintf("aef-%s-%d", party, year)
	if format == "csv" {
		t, ok := aef.Table(strings.ReplaceAll(r.URL.Query().Get("table"), "-", ""))
		if !ok {
			s.renderError(w, r, http.StatusBadRequest, "article6.bad_table")
			return
		}
		err = t.WriteCSV(&buf)
		name += "-" + t.Name + ".csv"
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		err = aef.WriteXLSX(&buf)
		name += ".xlsx"
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	if err != nil {
		slog.ErrorContext(r.Context(), "web: article 6 AEF", "err", err)
		http.Error(w, "The AEF could not be written; the error has been logged.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = buf.WriteTo(w)
}

// balanceChart is the SVG of a Party's adjustments per year: a bar up for
// ITMOs first transferred (added to its balance), one down for ITMOs used,
// on a y-axis in t CO2e whose ticks are round numbers. Every number it
// shows is written by numfmt, as in the balance table.
type balanceChart struct {
	Width, Height, Zero int
	AxisX, LabelX       int
	Bars                []balanceBar
	Ticks               []balanceTick
	// Top is the axis' end on each side of zero (a multiple of the tick
	// step, at least the largest bar).
	Top int64
}

type balanceBar struct {
	Year          int
	X, LabelX     int
	UpY, UpH      int
	DownH         int
	First, Used   int64
	FirstLabel    string // "+5,580"
	UsedLabel     string // "-6,000"
	Width, LabelY int
}

// balanceTick is one y-axis tick: its height and its label.
type balanceTick struct {
	Y     int
	Label string
}

// balanceRow is a row of the balance table as the page prints it.
type balanceRow struct {
	article6report.BalanceRow
	AdjustmentLabel string
}

func balanceRows(rows []article6report.BalanceRow) []balanceRow {
	out := make([]balanceRow, len(rows))
	for i, r := range rows {
		out[i] = balanceRow{BalanceRow: r, AdjustmentLabel: numfmt.Decimal(r.Adjustment)}
	}
	return out
}

// tickStep is the round step (1, 2 or 5 times a power of ten) that puts at
// most four ticks between zero and max.
func tickStep(max int64) int64 {
	if max <= 0 {
		return 0
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if step := m * p; step*4 >= max {
				return step
			}
		}
	}
}

func chartOf(rows []article6report.BalanceRow) balanceChart {
	c := balanceChart{Width: 760, Height: 240, AxisX: 64, LabelX: 58}
	c.Zero = c.Height / 2
	var most int64
	for _, r := range rows {
		most = max(most, r.FirstTransferred, r.Used)
	}
	half := int64(c.Zero - 24)
	step := tickStep(most)
	if step > 0 {
		c.Top = (most + step - 1) / step * step
	}
	scale := func(q int64) int {
		if c.Top == 0 {
			return 0
		}
		return int(q * half / c.Top)
	}
	c.Ticks = append(c.Ticks, balanceTick{Y: c.Zero, Label: "0"})
	for v := step; step > 0 && v <= c.Top; v += step {
		c.Ticks = append(c.Ticks, balanceTick{Y: c.Zero - scale(v), Label: "+" + numfmt.Int(v)}, balanceTick{Y: c.Zero + scale(v), Label: numfmt.Int(-v)})
	}
	slot := (c.Width - c.AxisX - 10) / max(len(rows), 1)
	for i, r := range rows {
		b := balanceBar{Year: r.Year, X: c.AxisX + 6 + i*slot + slot/4, Width: slot / 2, LabelX: c.AxisX + 6 + i*slot + slot/2, LabelY: c.Height - 4,
			First: r.FirstTransferred, Used: r.Used, FirstLabel: "+" + numfmt.Int(r.FirstTransferred), UsedLabel: numfmt.Int(-r.Used)}
		b.UpH = scale(r.FirstTransferred)
		b.UpY = c.Zero - b.UpH
		b.DownH = scale(r.Used)
		c.Bars = append(c.Bars, b)
	}
	return c
}
