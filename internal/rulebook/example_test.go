package rulebook_test

import (
	"fmt"

	"github.com/corridor-carbon/corridor/internal/rulebook"
)

// A Chinese power company with an obligation of 12,345 t may use at most 5%
// in CCERs: 617 t after rounding down.
func ExampleRulebook_Eligibility() {
	rb, err := rulebook.Default()
	if err != nil {
		panic(err)
	}
	d, err := rb.Eligibility(rulebook.EligibilityRequest{
		Unit: rulebook.Unit{Instrument: "CCER", Host: "CN", Vintage: 2024, Registered: "2024-06-01"},
		Use:  rulebook.Use{Scheme: "CN-ETS", ComplianceYear: 2025, Obligation: 12345},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("allowed:", d.Allowed, "max:", d.MaxQuantity, "t")
	fmt.Println(d.Cap.Rounding)
	for _, r := range d.Reasons {
		fmt.Println(r.Outcome, r.Rule, r.Status)
	}
	// Output:
	// allowed: true max: 617 t
	// 5% of 12,345 t = 617.25 t, rounded down to 617 t (whole units; rounding up would exceed the limit)
	// pass CN-ETS.offset-instrument confirmed
	// pass CN-ETS.ccer-domestic confirmed
	// condition CN-ETS.not-from-covered-projects unverified
	// pass CN-ETS.pre-2017-ccer confirmed
	// pass CN-ETS.offset-cap confirmed
}
