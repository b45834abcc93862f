package linkage

import (
	"fmt"
	"math"
	"slices"
)

// CurveKind names the functional form of a marginal abatement cost curve.
type CurveKind string

// The supported MAC forms. Abatement a is in MtCO2e, prices in the
// scenario's currency per tCO2e, μ = a/BAU is the abated share.
const (
	// Linear is MAC(a) = c1·a: the textbook form with the closed-form
	// linked price p* = ΣR / Σ(1/c).
	Linear CurveKind = "linear"
	// Quadratic is MAC(a) = c1·a + c2·a².
	Quadratic CurveKind = "quadratic"
	// PolynomialShare is MAC(μ) = Σ_k c_k·μ^k (k = 1…n) in the abated share
	// μ = a/BAU: the RICE50+ form mx·(a·μ + b·μ⁴) is coefficients
	// [mx·a, 0, 0, mx·b].
	PolynomialShare CurveKind = "polynomial_share"
	// Piecewise interpolates linearly between (abatement, price) points of a
	// MACC table, from (0, 0) unless the table starts at zero abatement, and
	// continues with the last segment's slope up to BAU.
	Piecewise CurveKind = "piecewise"
)

// maxPolynomialDegree bounds polynomial_share curves; RICE uses degree 4.
const maxPolynomialDegree = 8

// Curve is a validated, monotone marginal abatement cost curve of one region,
// defined on abatement a ∈ [0, BAU]. Its methods do not allocate.
type Curve struct {
	kind  CurveKind
	bau   float64 // MtCO2e: abatement cannot exceed business-as-usual emissions
	scale float64 // multiplies every price; 1 unless a Monte Carlo draw moves it
	coef  [maxPolynomialDegree]float64
	n     int // number of coefficients in use
	// piecewise: abatement, price and cumulative cost (∫MAC) at each point,
	// starting with (0, p0, 0) and ending at (bau, pmax, ∫).
	pa, pp, pc []float64
	pmax       float64 // unscaled MAC at a = bau
}

// NewCurve builds a curve from its kind and parameters for a region with the
// given business-as-usual emissions (MtCO2e). coefficients serve linear,
// quadratic and polynomial_share; points ([abatement, price] pairs) serve
// piecewise. Errors name the offending parameter relative to the curve
// ("coefficients[1]", "points[2][1]").
func NewCurve(kind CurveKind, coefficients []float64, points [][2]float64, bau float64) (Curve, error) {
	c := Curve{kind: kind, bau: bau, scale: 1}
	if !(bau > 0) || math.IsInf(bau, 0) {
		return c, &FieldError{Field: "bau", Msg: fmt.Sprintf("business-as-usual emissions must be positive and finite, got %g", bau)}
	}
	for i, v := range coefficients {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return c, &FieldError{Field: fmt.Sprintf("coefficients[%d]", i), Msg: "must be a finite number"}
		}
	}
	switch kind {
	case Linear:
		if len(coefficients) != 1 {
			return c, &FieldError{Field: "coefficients", Msg: fmt.Sprintf("a linear curve takes exactly one coefficient (the slope c1 in MAC = c1·a), got %d", len(coefficients))}
		}
		if !(coefficients[0] > 0) {
			return c, &FieldError{Field: "coefficients[0]", Msg: fmt.Sprintf("slope must be > 0 for a monotone curve, got %g", coefficients[0])}
		}
	case Quadratic:
		if len(coefficients) != 2 {
			return c, &FieldError{Field: "coefficients", Msg: fmt.Sprintf("a quadratic curve takes two coefficients (c1·a + c2·a²), got %d", len(coefficients))}
		}
		for i, v := range coefficients {
			if v < 0 {
				return c, &FieldError{Field: fmt.Sprintf("coefficients[%d]", i), Msg: fmt.Sprintf("must be ≥ 0: a negative coefficient makes the curve non-monotone or negative, got %g", v)}
			}
		}
		if coefficients[0] == 0 && coefficients[1] == 0 {
			return c, &FieldError{Field: "coefficients", Msg: "at least one coefficient must be > 0 for a strictly increasing curve"}
		}
	case PolynomialShare:
		if len(coefficients) < 1 || len(coefficients) > maxPolynomialDegree {
			return c, &FieldError{Field: "coefficients", Msg: fmt.Sprintf("a polynomial_share curve takes 1 to %d coefficients (c1·μ + c2·μ² + …), got %d", maxPolynomialDegree, len(coefficients))}
		}
		positive := false
		for i, v := range coefficients {
			if v < 0 {
				return c, &FieldError{Field: fmt.Sprintf("coefficients[%d]", i), Msg: fmt.Sprintf("must be ≥ 0: a negative coefficient can make the curve non-monotone, got %g", v)}
			}
			positive = positive || v > 0
		}
		if !positive {
			return c, &FieldError{Field: "coefficients", Msg: "at least one coefficient must be > 0 for a strictly increasing curve"}
		}
	case Piecewise:
		if err := c.setPoints(points); err != nil {
			return c, err
		}
		return c, nil
	default:
		return c, &FieldError{Field: "kind", Msg: fmt.Sprintf("unknown curve kind %q (linear, quadratic, polynomial_share, piecewise)", kind)}
	}
	if len(points) > 0 {
		return c, &FieldError{Field: "points", Msg: fmt.Sprintf("points belong to piecewise curves, not %s", kind)}
	}
	c.n = copy(c.coef[:], coefficients)
	c.pmax = c.rawPrice(bau)
	return c, nil
}

func (c *Curve) setPoints(points [][2]float64) error {
	if len(points) < 1 {
		return &FieldError{Field: "points", Msg: "a piecewise curve needs at least one [abatement, price] point"}
	}
	prevA, prevP := 0.0, 0.0
	for i, pt := range points {
		a, p := pt[0], pt[1]
		for j, v := range pt {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return &FieldError{Field: fmt.Sprintf("points[%d][%d]", i, j), Msg: "must be a finite number"}
			}
		}
		if p < 0 {
			return &FieldError{Field: fmt.Sprintf("points[%d][1]", i), Msg: fmt.Sprintf("price must be ≥ 0 (count negative-cost measures in BAU), got %g", p)}
		}
		if a < 0 || a > c.bau {
			return &FieldError{Field: fmt.Sprintf("points[%d][0]", i), Msg: fmt.Sprintf("abatement must lie in [0, BAU = %g], got %g", c.bau, a)}
		}
		if i == 0 && a == 0 {
			prevP = p
			continue
		}
		if !(a > prevA) {
			return &FieldError{Field: fmt.Sprintf("points[%d][0]", i), Msg: fmt.Sprintf("abatement must increase strictly along the curve (%g after %g)", a, prevA)}
		}
		if !(p > prevP) {
			return &FieldError{Field: fmt.Sprintf("points[%d][1]", i), Msg: fmt.Sprintf("price must increase strictly along the curve (%g after %g): the curve is not monotone", p, prevP)}
		}
		prevA, prevP = a, p
	}
	n := len(points) + 2
	c.pa, c.pp, c.pc = make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	if points[0][0] > 0 {
		c.pa, c.pp = append(c.pa, 0), append(c.pp, 0)
	}
	for _, pt := range points {
		c.pa, c.pp = append(c.pa, pt[0]), append(c.pp, pt[1])
	}
	last := len(c.pa) - 1
	if c.pa[last] < c.bau {
		slope := 0.0
		if last > 0 {
			slope = (c.pp[last] - c.pp[last-1]) / (c.pa[last] - c.pa[last-1])
		}
		if !(slope > 0) {
			return &FieldError{Field: "points", Msg: "a table that stops short of BAU needs at least two points to extend its last segment"}
		}
		c.pa = append(c.pa, c.bau)
		c.pp = append(c.pp, c.pp[last]+slope*(c.bau-c.pa[last]))
	}
	c.pc = append(c.pc, 0)
	for i := 1; i < len(c.pa); i++ {
		c.pc = append(c.pc, c.pc[i-1]+(c.pp[i]+c.pp[i-1])/2*(c.pa[i]-c.pa[i-1]))
	}
	c.pmax = c.pp[len(c.pp)-1]
	return nil
}

// Kind reports the curve's form.
func (c *Curve) Kind() CurveKind { return c.kind }

// BAU reports the business-as-usual emissions (MtCO2e), the curve's upper end.
func (c *Curve) BAU() float64 { return c.bau }

// MaxPrice is the marginal cost of abating all BAU emissions.
func (c *Curve) MaxPrice() float64 { return c.scale * c.pmax }

// withScale returns a copy whose prices are multiplied by s (> 0).
func (c Curve) withScale(s float64) Curve {
	c.scale = s
	return c
}

// Price is the marginal abatement cost at abatement a (MtCO2e), a clamped to [0, BAU].
func (c *Curve) Price(a float64) float64 {
	return c.scale * c.rawPrice(min(max(a, 0), c.bau))
}

func (c *Curve) rawPrice(a float64) float64 {
	switch c.kind {
	case Linear:
		return c.coef[0] * a
	case Quadratic:
		return (c.coef[0] + c.coef[1]*a) * a
	case PolynomialShare:
		return c.poly(a / c.bau)
	default:
		i := c.segment(a, c.pa)
		return c.pp[i] + (c.pp[i+1]-c.pp[i])*(a-c.pa[i])/(c.pa[i+1]-c.pa[i])
	}
}

// poly evaluates Σ c_k μ^k by Horner's rule.
func (c *Curve) poly(mu float64) float64 {
	v := 0.0
	for k := c.n - 1; k >= 0; k-- {
		v = v*mu + c.coef[k]
	}
	return v * mu
}

// polyDerivative evaluates d/dμ Σ c_k μ^k.
func (c *Curve) polyDerivative(mu float64) float64 {
	v := 0.0
	for k := c.n - 1; k >= 0; k-- {
		v = v*mu + float64(k+1)*c.coef[k]
	}
	return v
}

// segment returns i with xs[i] ≤ x ≤ xs[i+1] (xs ascending, len ≥ 2).
func (c *Curve) segment(x float64, xs []float64) int {
	i, _ := slices.BinarySearch(xs, x)
	return min(max(i-1, 0), len(xs)-2)
}

// Abatement inverts the curve: the abatement (MtCO2e) at which the marginal
// cost reaches price p, 0 for p ≤ MAC(0) and BAU for p ≥ MAC(BAU).
func (c *Curve) Abatement(p float64) float64 {
	p /= c.scale
	if p <= 0 {
		return 0
	}
	if p >= c.pmax {
		return c.bau
	}
	switch c.kind {
	case Linear:
		return p / c.coef[0]
	case Quadratic:
		// The root of c2·a² + c1·a − p written to avoid cancellation when c2 is small.
		return 2 * p / (c.coef[0] + math.Sqrt(c.coef[0]*c.coef[0]+4*c.coef[1]*p))
	case PolynomialShare:
		return c.bau * c.polyInverse(p)
	default:
		if p <= c.pp[0] {
			return 0
		}
		i := c.segment(p, c.pp)
		return c.pa[i] + (c.pa[i+1]-c.pa[i])*(p-c.pp[i])/(c.pp[i+1]-c.pp[i])
	}
}

// polyInverse solves Σ c_k μ^k = p for μ ∈ (0, 1). The polynomial is convex
// and increasing on [0, 1] (non-negative coefficients), so Newton's method
// started at an upper bound of the root descends monotonically onto it: it
// cannot overshoot or diverge. The start min_k (p/c_k)^(1/k) bounds the root
// because each term alone is at most p there.
func (c *Curve) polyInverse(p float64) float64 {
	mu := 1.0
	for k := 0; k < c.n; k++ {
		if c.coef[k] > 0 {
			b := p / c.coef[k]
			switch k {
			case 0:
			case 1:
				b = math.Sqrt(b)
			case 3:
				b = math.Sqrt(math.Sqrt(b))
			default:
				b = math.Pow(b, 1/float64(k+1))
			}
			mu = min(mu, b)
		}
	}
	for range 60 {
		f := c.poly(mu) - p
		d := c.polyDerivative(mu)
		if f <= 0 || d <= 0 {
			break
		}
		step := f / d
		mu -= step
		if step <= 1e-15*mu {
			break
		}
	}
	return max(mu, 0)
}

// Cost is the total abatement cost ∫₀ᵃ MAC (currency million when a is in
// MtCO2e and prices are per tonne), a clamped to [0, BAU].
func (c *Curve) Cost(a float64) float64 {
	a = min(max(a, 0), c.bau)
	switch c.kind {
	case Linear:
		return c.scale * c.coef[0] * a * a / 2
	case Quadratic:
		return c.scale * (c.coef[0]/2 + c.coef[1]*a/3) * a * a
	case PolynomialShare:
		mu := a / c.bau
		v := 0.0
		for k := c.n - 1; k >= 0; k-- {
			v = v*mu + c.coef[k]/float64(k+2)
		}
		return c.scale * c.bau * v * mu * mu
	default:
		i := c.segment(a, c.pa)
		pa := c.pp[i] + (c.pp[i+1]-c.pp[i])*(a-c.pa[i])/(c.pa[i+1]-c.pa[i])
		return c.scale * (c.pc[i] + (c.pp[i]+pa)/2*(a-c.pa[i]))
	}
}
