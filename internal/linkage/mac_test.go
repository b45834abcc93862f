package linkage

import (
	"errors"
	"math"
	"testing"
)

func TestCurvesInvertAndIntegrate(t *testing.T) {
	tests := []struct {
		name   string
		kind   CurveKind
		coef   []float64
		points [][2]float64
		bau    float64
	}{
		{"linear", Linear, []float64{0.5}, nil, 200},
		{"quadratic", Quadratic, []float64{0.2, 0.003}, nil, 300},
		{"quadratic, pure square", Quadratic, []float64{0, 0.01}, nil, 100},
		{"RICE polynomial", PolynomialShare, []float64{271, 0, 0, 550}, nil, 300},
		{"cubic polynomial", PolynomialShare, []float64{0, 40, 900}, nil, 50},
		{"piecewise from origin", Piecewise, nil, [][2]float64{{5, 4}, {20, 10}, {50, 30}}, 60},
		{"piecewise with a start price", Piecewise, nil, [][2]float64{{0, 2}, {10, 5}, {40, 80}}, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCurve(tc.kind, tc.coef, tc.points, tc.bau)
			if err != nil {
				t.Fatal(err)
			}
			prevP := -1.0
			for i := 0; i <= 200; i++ {
				a := tc.bau * float64(i) / 200
				p := c.Price(a)
				if p < prevP {
					t.Fatalf("not monotone at a=%g: %g after %g", a, p, prevP)
				}
				prevP = p
				if p > c.Price(0) {
					if back := c.Abatement(p); math.Abs(back-a) > 1e-9*tc.bau {
						t.Fatalf("Abatement(Price(%g)) = %g", a, back)
					}
				}
				// Cost is the integral of the price: compare with Simpson's rule.
				const n = 2000
				h := a / n
				sum := c.Price(0) + c.Price(a)
				for k := 1; k < n; k++ {
					w := 2.0
					if k%2 == 1 {
						w = 4
					}
					sum += w * c.Price(float64(k)*h)
				}
				if want := sum * h / 3; math.Abs(c.Cost(a)-want) > 1e-6*(1+want) {
					t.Fatalf("Cost(%g) = %g, numerical integral %g", a, c.Cost(a), want)
				}
			}
			if c.Abatement(-5) != 0 || c.Abatement(c.MaxPrice()*2) != tc.bau {
				t.Errorf("Abatement not clamped to [0, BAU]")
			}
			scaled := c.withScale(3)
			if a := tc.bau / 3; math.Abs(scaled.Price(a)-3*c.Price(a)) > 1e-9*c.Price(a) {
				t.Errorf("scale does not multiply prices")
			}
		})
	}
}

func TestCurveValidation(t *testing.T) {
	tests := []struct {
		name   string
		kind   CurveKind
		coef   []float64
		points [][2]float64
		bau    float64
		field  string
	}{
		{"negative BAU", Linear, []float64{1}, nil, -3, "bau"},
		{"flat linear", Linear, []float64{0}, nil, 10, "coefficients[0]"},
		{"two slopes for linear", Linear, []float64{1, 2}, nil, 10, "coefficients"},
		{"negative quadratic term", Quadratic, []float64{1, -0.1}, nil, 10, "coefficients[1]"},
		{"negative polynomial term", PolynomialShare, []float64{5, -1}, nil, 10, "coefficients[1]"},
		{"zero polynomial", PolynomialShare, []float64{0, 0}, nil, 10, "coefficients"},
		{"NaN", Quadratic, []float64{math.NaN(), 1}, nil, 10, "coefficients[0]"},
		{"price falls", Piecewise, nil, [][2]float64{{1, 5}, {2, 4}}, 10, "points[1][1]"},
		{"abatement goes back", Piecewise, nil, [][2]float64{{3, 5}, {2, 7}}, 10, "points[1][0]"},
		{"beyond BAU", Piecewise, nil, [][2]float64{{3, 5}, {12, 7}}, 10, "points[1][0]"},
		{"negative price", Piecewise, nil, [][2]float64{{0, -5}, {2, 7}}, 10, "points[0][1]"},
		{"unknown kind", "cubic-spline", nil, nil, 10, "kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewCurve(tc.kind, tc.coef, tc.points, tc.bau)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v, want one naming %q", err, tc.field)
			}
		})
	}
}
