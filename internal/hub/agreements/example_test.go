package agreements_test

import (
	"fmt"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/agreements"
)

func ExampleSet_Allowed() {
	set, err := agreements.Default()
	if err != nil {
		panic(err)
	}
	on := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	a, err := set.Allowed("TH", "SG", "PTVER", "icc", on)
	fmt.Println(a.ID, a.Status, a.Terms.ShareOfProceedsPct, a.Terms.OMGEPct, err)
	_, err = set.Allowed("CN", "SG", "CCER", "voluntary", on)
	fmt.Println(agreements.RefusalCode(err))
	a, _ = set.Allowed("CN", "TH", "CCER", "voluntary", on)
	fmt.Println(a.ID, a.Status)
	// Output:
	// sg-th-ia operational 5 2 <nil>
	// no_agreement
	// pilot-cn-th proposal
}
