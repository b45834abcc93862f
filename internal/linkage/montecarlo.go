package linkage

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// MonteCarloParams configures an uncertainty run.
type MonteCarloParams struct {
	Runs int
	Seed uint64
	// Workers defaults to GOMAXPROCS. The result does not depend on it:
	// run i always draws from PCG(Seed, i).
	Workers int
	// Progress, if set, is called with the number of finished runs, from
	// one goroutine at a time.
	Progress func(done int)
}

// Percentiles reported by MonteCarlo.
var Percentiles = []float64{5, 25, 50, 75, 95}

// MonteCarloBands summarises an uncertainty run: percentiles over runs of
// every market's autarky price, linked price and gain, and of the total gain.
type MonteCarloBands struct {
	Runs    int           `json:"runs"`
	Failed  int           `json:"failed"`
	Seed    uint64        `json:"seed"`
	Markets []MarketBands `json:"markets"`
	// Gain is the total private gain (complying firms); SocialGain the
	// total social gain (abatement plus net payments abroad; see Result).
	Gain       Band `json:"total_gain"`
	SocialGain Band `json:"total_social_gain"`
	// Uncertain counts the scenario parameters given a range.
	Uncertain int `json:"uncertain_parameters"`
}

// MarketBands holds one market's percentile bands.
type MarketBands struct {
	ID           string `json:"id"`
	AutarkyPrice Band   `json:"autarky_price"`
	LinkedPrice  Band   `json:"linked_price"`
	Gain         Band   `json:"gain"`
	SocialGain   Band   `json:"social_gain"`
}

// Band is a distribution summary: the Percentiles (linear interpolation
// between order statistics) and the mean.
type Band struct {
	P5   float64 `json:"p5"`
	P25  float64 `json:"p25"`
	P50  float64 `json:"p50"`
	P75  float64 `json:"p75"`
	P95  float64 `json:"p95"`
	Mean float64 `json:"mean"`
}

// MonteCarlo solves the model Runs times, each time drawing every parameter
// that has a range (triangular: low, value, high), and summarises the
// outcomes. It is deterministic for a seed. Runs whose draw has no
// equilibrium are counted as failed and left out of the bands.
func MonteCarlo(ctx context.Context, m *Model, p MonteCarloParams) (*MonteCarloBands, error) {
	if p.Runs < 1 {
		return nil, fmt.Errorf("linkage: monte carlo: runs must be ≥ 1, got %d", p.Runs)
	}
	workers := p.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, p.Runs)
	nm := len(m.markets)
	// Column-major per quantity: out[q][k*runs + i].
	const nq = 4
	out := make([][]float64, nq)
	for q := range out {
		out[q] = make([]float64, nm*p.Runs)
	}
	total := make([]float64, p.Runs)
	totalSocial := make([]float64, p.Runs)
	ok := make([]bool, p.Runs)
	var next, done atomic.Int64
	var progressMu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wm := m.clone()
			s := NewSolver(wm)
			pcg := rand.NewPCG(0, 0)
			rng := rand.New(pcg)
			for {
				i := int(next.Add(1) - 1)
				if i >= p.Runs || ctx.Err() != nil {
					return
				}
				pcg.Seed(p.Seed, uint64(i))
				wm.draw(rng)
				if wm.rebuild() == nil && s.Solve() == nil {
					ok[i] = true
					sum, social := 0.0, 0.0
					for k := range nm {
						w := s.marketWelfare(k)
						out[0][k*p.Runs+i] = s.autarkyPrice[k]
						out[1][k*p.Runs+i] = s.price[k]
						out[2][k*p.Runs+i] = w.privateA() - w.privateL()
						out[3][k*p.Runs+i] = w.socialA() - w.socialL()
						sum += w.privateA() - w.privateL()
						social += w.socialA() - w.socialL()
					}
					total[i], totalSocial[i] = sum, social
				}
				if d := done.Add(1); p.Progress != nil && (d%64 == 0 || int(d) == p.Runs) {
					progressMu.Lock()
					p.Progress(int(d))
					progressMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linkage: monte carlo: %w", err)
	}
	res := &MonteCarloBands{Runs: p.Runs, Seed: p.Seed, Uncertain: len(m.ranges)}
	keep := func(col []float64) []float64 {
		vals := make([]float64, 0, len(col))
		for i, v := range col {
			if ok[i] {
				vals = append(vals, v)
			}
		}
		return vals
	}
	for _, v := range ok {
		if !v {
			res.Failed++
		}
	}
	for k := range nm {
		col := func(q int) []float64 { return keep(out[q][k*p.Runs : (k+1)*p.Runs]) }
		res.Markets = append(res.Markets, MarketBands{
			ID:           m.markets[k].id,
			AutarkyPrice: bandOf(col(0)),
			LinkedPrice:  bandOf(col(1)),
			Gain:         bandOf(col(2)),
			SocialGain:   bandOf(col(3)),
		})
	}
	res.Gain = bandOf(keep(total))
	res.SocialGain = bandOf(keep(totalSocial))
	return res, nil
}

// bandOf sorts vals and summarises them.
func bandOf(vals []float64) Band {
	if len(vals) == 0 {
		return Band{} // every run failed: MonteCarloBands.Failed says so
	}
	slices.Sort(vals)
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	return Band{
		P5: percentile(vals, 5), P25: percentile(vals, 25), P50: percentile(vals, 50),
		P75: percentile(vals, 75), P95: percentile(vals, 95), Mean: sum / float64(len(vals)),
	}
}

// percentile interpolates linearly between the order statistics of sorted
// (the "type 7" definition of Hyndman & Fan).
func percentile(sorted []float64, q float64) float64 {
	h := (float64(len(sorted)) - 1) * q / 100
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// clone copies the model's mutable state for one Monte Carlo worker.
func (m *Model) clone() *Model {
	c := *m
	c.vals = slices.Clone(m.vals)
	c.markets = slices.Clone(m.markets)
	c.regions = slices.Clone(m.regions)
	c.links = slices.Clone(m.links)
	return &c
}

// draw sets every ranged parameter to a triangular draw.
func (m *Model) draw(rng *rand.Rand) {
	copy(m.vals, m.base)
	for _, r := range m.ranges {
		u := rng.Float64()
		span := r.high - r.low
		if u < (r.mode-r.low)/span {
			m.vals[r.slot] = r.low + math.Sqrt(u*span*(r.mode-r.low))
		} else {
			m.vals[r.slot] = r.high - math.Sqrt((1-u)*span*(r.high-r.mode))
		}
	}
}

// marketCost is market k's autarky and linked cost after Solve (see Result).
func (s *Solver) marketCost(k int) (autarky, linked float64) {
	w := s.marketWelfare(k)
	return w.privateA(), w.privateL()
}

// welfare is one market's yearly costs split by who bears them. The
// complying firms' private cost counts the tax (or the units bought at a
// ceiling) they pay their own authority; for the country that payment is a
// transfer, so the social cost is abatement plus net payments abroad. A tax
// market's avoided tax is a private gain and the state's lost revenue, not a
// social gain.
type welfare struct {
	// abatementA and abatementL are Σ ∫MAC over the market's regions.
	abatementA, abatementL float64
	// revenueA and revenueL are the authority's receipts: −price × units
	// withdrawn, i.e. tax collected or units sold at a ceiling (negative
	// when it buys units back to hold a floor).
	revenueA, revenueL float64
	// paymentsL is what the market pays abroad, net: −world price × net
	// exports (zero in autarky).
	paymentsL float64
}

func (w welfare) privateA() float64 { return w.abatementA + w.revenueA }
func (w welfare) privateL() float64 { return w.abatementL + w.paymentsL + w.revenueL }
func (w welfare) socialA() float64  { return w.abatementA }
func (w welfare) socialL() float64  { return w.abatementL + w.paymentsL }

func (s *Solver) marketWelfare(k int) welfare {
	md := &s.m.markets[k]
	var w welfare
	for i := md.r0; i < md.r1; i++ {
		c := &s.m.regions[i].c
		w.abatementA += c.Cost(s.autarkyA[i])
		w.abatementL += c.Cost(s.linkedA[i])
	}
	w.revenueA = -s.autarkyPrice[k] * s.autarkyW[k]
	w.revenueL = -s.price[k] * s.withdraw[k]
	w.paymentsL = -s.worldPrice[k] * s.net[k]
	return w
}

// Model returns the solver's model.
func (s *Solver) Model() *Model { return s.m }
