package linkage

import (
	"errors"
	"fmt"
	"math"
)

// The solver's stated accuracy. Root finding stops when the market-clearing
// residual is at most ClearingTol times the component's total BAU (in
// reference tonnes), or when the price bracket is narrower than PriceTolRel
// relative: the latter happens at a floor or ceiling step, whose market then
// absorbs the residual exactly (or at the limit of float64 resolution).
const (
	ClearingTol = 1e-12
	PriceTolRel = 1e-14
	PriceTolAbs = 1e-300
	maxIter     = 300
)

// Solver computes autarky and linked equilibria of one Model, reusing its
// work arrays: after the first call, Solve does not allocate.
//
// The linked equilibrium, per connected component of the link graph
// (indirect linking: units travel along any path of links):
//
//   - Each market k has a unit value v_k in reference tonnes (link rate r
//     from a to b: v_a = r·v_b), so that with one shadow price π per
//     component an unconstrained market's price is p_k = v_k·π.
//   - Each market's net export N_k(π) = clamp(S_k(v_k·π), −L_k, E_k), where
//     S_k(p) = Σ MAC_i⁻¹(p) − Σ R_i is its surplus at price p and L_k, E_k
//     its import and export limits. Below a hard price floor the market
//     imports all it may (N = −L_k) while its authority withdraws units to
//     hold the floor; above a hard ceiling it exports all it may (N = E_k).
//     N_k is non-decreasing in π, with vertical steps at floors and
//     ceilings.
//   - The aggregate excess supply g(π) = Σ v_k·N_k(π) is therefore
//     monotone: g(0) ≤ 0 ≤ g(π_max) at π_max above every curve's cost of
//     abating all BAU and every floor. The Illinois variant of regula falsi
//     keeps a bracket [lo, hi] with g(lo) < 0 ≤ g(hi) and never leaves it;
//     a step that fails to halve the bracket over two iterations is
//     replaced by bisection, so convergence is at least that of bisection
//     and cannot diverge.
//   - At the root, a market whose floor or ceiling step straddles the final
//     bracket absorbs the residual within its step (the withdrawn or issued
//     units); otherwise π is interpolated in the final bracket. If g(0) ≥ 0
//     the component is in surplus: π = 0 and exporters' sales are scaled
//     down pro rata, the rest unused.
//   - A market bound by a limit or holding its floor or ceiling has its own
//     domestic price: the price at which its surplus equals N_k, clamped to
//     [floor, ceiling]. The price gap times the limited volume is the quota
//     rent, kept inside the limited market.
//
// This is the competitive equilibrium of the constrained problem "minimise Σ
// abatement cost subject to each market covering its requirement with
// domestic abatement and net imports within its limits" when no floor or
// ceiling binds; with them it is the price-corridor equilibrium above.
type Solver struct {
	m *Model
	// per market
	autarkyPrice, autarkyW []float64
	price, net, withdraw   []float64
	worldPrice             []float64
	swing, atCeiling       []bool // market at a floor or ceiling step; which one
	// per component
	pi []float64
	// per region
	autarkyA, linkedA []float64
	iterations        int
	unused            float64
}

// NewSolver prepares a solver for m. The model must not be shared with a
// concurrently running solver.
func NewSolver(m *Model) *Solver {
	nm, nr := len(m.markets), len(m.regions)
	return &Solver{
		m:            m,
		autarkyPrice: make([]float64, nm), autarkyW: make([]float64, nm),
		price: make([]float64, nm), net: make([]float64, nm), withdraw: make([]float64, nm),
		worldPrice: make([]float64, nm), swing: make([]bool, nm), atCeiling: make([]bool, nm),
		pi:       make([]float64, len(m.comps)),
		autarkyA: make([]float64, nr), linkedA: make([]float64, nr),
	}
}

// ErrNoEquilibrium is returned when a component cannot clear.
var ErrNoEquilibrium = errors.New("linkage: no equilibrium")

// Solve computes the autarky and linked equilibria. Read them with Result.
func (s *Solver) Solve() error {
	m := s.m
	s.iterations, s.unused = 0, 0
	for k := range m.markets {
		md := &m.markets[k]
		p := s.autarky(k)
		s.autarkyPrice[k] = p
		s.autarkyW[k] = s.surplus(k, p)
		for i := md.r0; i < md.r1; i++ {
			s.autarkyA[i] = m.regions[i].c.Abatement(p)
		}
	}
	for c, comp := range m.comps {
		if len(comp) == 1 {
			k := comp[0]
			s.pi[c] = s.autarkyPrice[k] / m.markets[k].value
			s.price[k], s.worldPrice[k], s.net[k], s.withdraw[k], s.swing[k] = s.autarkyPrice[k], s.autarkyPrice[k], 0, s.autarkyW[k], false
			continue
		}
		if err := s.linked(c, comp); err != nil {
			return err
		}
	}
	for k := range m.markets {
		md := &m.markets[k]
		for i := md.r0; i < md.r1; i++ {
			s.linkedA[i] = m.regions[i].c.Abatement(s.price[k])
		}
	}
	return nil
}

// abatement is Σ MAC_i⁻¹(p) over market k's regions.
func (s *Solver) abatement(k int, p float64) float64 {
	md := &s.m.markets[k]
	a := 0.0
	for i := md.r0; i < md.r1; i++ {
		a += s.m.regions[i].c.Abatement(p)
	}
	return a
}

// surplus is market k's abatement beyond its requirement at price p.
func (s *Solver) surplus(k int, p float64) float64 {
	return s.abatement(k, p) - s.m.markets[k].required
}

// priceFor is the lowest price at which market k's surplus reaches target,
// clamped to [floor, ceiling].
func (s *Solver) priceFor(k int, target float64) float64 {
	md := &s.m.markets[k]
	need := md.required + target
	var p float64
	switch {
	case need <= 0:
		p = 0
	case md.r1-md.r0 == 1:
		p = s.m.regions[md.r0].c.Price(need)
	default:
		hi := md.priceTop
		if s.abatement(k, hi) <= need {
			p = hi
			break
		}
		p = s.root(-1, k, need, 0, hi, -need, s.abatement(k, hi)-need)
	}
	return min(max(p, md.floor), md.ceil)
}

// autarky is market k's price without links.
func (s *Solver) autarky(k int) float64 {
	md := &s.m.markets[k]
	if md.floor == md.ceil {
		return md.floor
	}
	return s.priceFor(k, 0)
}

// netExport is market k's net export (its own units) when the component's
// shadow price is pi; the value at a floor or ceiling is the end of the
// step nearest the unconstrained curve.
func (s *Solver) netExport(k int, pi float64) float64 {
	md := &s.m.markets[k]
	p := md.value * pi
	switch {
	case p < md.floor:
		return -md.impLim
	case p > md.ceil:
		return md.expLim
	}
	return min(max(s.surplus(k, p), -md.impLim), md.expLim)
}

// excess is g(π) = Σ v_k·N_k(π) over component c (reference tonnes).
func (s *Solver) excess(c int, pi float64) float64 {
	g := 0.0
	for _, k := range s.m.comps[c] {
		g += s.m.markets[k].value * s.netExport(k, pi)
	}
	return g
}

// eval is the function whose root is sought: the excess of component idx
// (mode ≥ 0), or market idx's abatement minus target (mode −1).
func (s *Solver) eval(mode, idx int, target, x float64) float64 {
	if mode < 0 {
		return s.abatement(idx, x) - target
	}
	return s.excess(idx, x)
}

// root returns x in [lo, hi] where the non-decreasing eval crosses zero,
// given flo < 0 ≤ fhi.
func (s *Solver) root(mode, idx int, target, lo, hi, flo, fhi float64) float64 {
	lo, hi, flo, fhi = s.bracket(mode, idx, target, ClearingTol*target, lo, hi, flo, fhi)
	if lo == hi || math.IsInf(flo, 0) || math.IsInf(fhi, 0) || fhi == flo {
		return lo + (hi-lo)/2
	}
	return lo + (hi-lo)*(-flo)/(fhi-flo)
}

// bracket narrows [lo, hi] (flo < 0 ≤ fhi) to the stated tolerance by the
// Illinois method with a bisection safeguard; it returns the final bracket
// and the true function values at its ends.
func (s *Solver) bracket(mode, idx int, target, qtol, lo, hi, flo, fhi float64) (float64, float64, float64, float64) {
	wlo, whi := flo, fhi // working values, halved by the Illinois rule
	side := 0
	width1, width2 := math.Inf(1), math.Inf(1)
	for range maxIter {
		width := hi - lo
		if width <= PriceTolAbs+PriceTolRel*hi {
			break
		}
		var x float64
		if width > width2/2 || math.IsInf(wlo, 0) || math.IsInf(whi, 0) {
			x = lo + width/2
		} else {
			x = (lo*whi - hi*wlo) / (whi - wlo)
			if !(x > lo && x < hi) {
				x = lo + width/2
			}
		}
		width2, width1 = width1, width
		s.iterations++
		fx := s.eval(mode, idx, target, x)
		if math.Abs(fx) <= qtol {
			return x, x, fx, fx
		}
		if fx < 0 {
			lo, flo, wlo = x, fx, fx
			if side < 0 {
				whi /= 2
			}
			side = -1
		} else {
			hi, fhi, whi = x, fx, fx
			if side > 0 {
				wlo /= 2
			}
			side = 1
		}
	}
	return lo, hi, flo, fhi
}

// linked solves component c (two or more markets).
func (s *Solver) linked(c int, comp []int) error {
	m := s.m
	hi, size := 0.0, 0.0
	for _, k := range comp {
		md := &m.markets[k]
		hi = max(hi, max(md.priceTop, md.floor)/md.value)
		s.swing[k] = false
		for i := md.r0; i < md.r1; i++ {
			size += md.value * m.regions[i].bau
		}
	}
	hi = hi*1.01 + 1
	glo, ghi := s.excess(c, 0), s.excess(c, hi)
	if math.IsNaN(glo) || math.IsNaN(ghi) || ghi < 0 {
		return fmt.Errorf("%w: component of %s: excess supply %g at the top price %g", ErrNoEquilibrium, m.markets[comp[0]].id, ghi, hi)
	}
	var pi float64
	if glo >= 0 {
		// Surplus at zero price: sell only what importers need.
		pi = 0
		pos := 0.0
		for _, k := range comp {
			s.net[k] = s.netExport(k, 0)
			if s.net[k] > 0 {
				pos += m.markets[k].value * s.net[k]
			}
		}
		if pos > 0 {
			scale := (pos - glo) / pos
			for _, k := range comp {
				if s.net[k] > 0 {
					s.unused += m.markets[k].value * s.net[k] * (1 - scale)
					s.net[k] *= scale
				}
			}
		}
	} else {
		lo, hi2, flo, fhi := s.bracket(0, c, 0, ClearingTol*size, 0, hi, glo, ghi)
		pi = s.allocate(comp, lo, hi2, flo, fhi)
	}
	s.pi[c] = pi
	for _, k := range comp {
		md := &m.markets[k]
		wp := md.value * pi
		s.worldPrice[k] = wp
		n := s.net[k]
		free := !s.swing[k] && wp >= md.floor && wp <= md.ceil &&
			n > -md.impLim && n < md.expLim && !(pi == 0 && n > 0)
		if free {
			s.price[k] = wp
		} else {
			s.price[k] = s.priceFor(k, n)
		}
		s.withdraw[k] = s.surplus(k, s.price[k]) - n
	}
	return nil
}

// allocate fixes π and the net exports from the final bracket.
func (s *Solver) allocate(comp []int, lo, hi, flo, fhi float64) float64 {
	m := s.m
	pi := math.NaN()
	for _, k := range comp {
		md := &m.markets[k]
		s.atCeiling[k] = false
		// The tests are netExport's own comparisons at the bracket's ends,
		// so a step that makes g cross zero is found even when floor/v
		// rounds to just outside [lo, hi].
		if md.floor > 0 && md.value*lo < md.floor && md.floor <= md.value*hi {
			s.swing[k], pi = true, md.floor/md.value
		}
		if !math.IsInf(md.ceil, 1) && md.value*lo <= md.ceil && md.ceil < md.value*hi {
			s.swing[k], s.atCeiling[k], pi = true, true, md.ceil/md.value
		}
	}
	if math.IsNaN(pi) {
		pi = lo + (hi-lo)/2
		if !math.IsInf(flo, 0) && !math.IsInf(fhi, 0) && fhi > flo {
			pi = lo + (hi-lo)*(-flo)/(fhi-flo)
		}
		for _, k := range comp {
			s.net[k] = s.netExport(k, pi)
		}
		return pi
	}
	// Markets at a step take up the residual inside their step, starting
	// from its finite end: a floor's top (unconstrained surplus), a
	// ceiling's bottom. The step is the one flagged above: comparing
	// v·π with the bound again would misfire, as v·(floor/v) need not
	// round back to the floor when v ≠ 1.
	residual := 0.0
	for _, k := range comp {
		md := &m.markets[k]
		if s.swing[k] {
			p := md.floor
			if s.atCeiling[k] {
				p = md.ceil
			}
			s.net[k] = min(max(s.surplus(k, p), -md.impLim), md.expLim)
		} else {
			s.net[k] = s.netExport(k, pi)
		}
		residual -= md.value * s.net[k]
	}
	for _, k := range comp {
		if !s.swing[k] || residual == 0 {
			continue
		}
		md := &m.markets[k]
		lowest, highest := s.net[k], s.net[k]
		if !s.atCeiling[k] || md.floor == md.ceil {
			lowest = -md.impLim // below its floor a market imports all it may
		}
		if s.atCeiling[k] || md.floor == md.ceil {
			highest = md.expLim // above its ceiling it exports all it may
		}
		d := min(max(residual/md.value, lowest-s.net[k]), highest-s.net[k])
		s.net[k] += d
		residual -= md.value * d
	}
	return pi
}
