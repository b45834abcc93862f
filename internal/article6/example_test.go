package article6_test

import (
	"fmt"

	"github.com/corridor-carbon/corridor/internal/article6"
	"github.com/shopspring/decimal"
)

// A Chinese-funded project in Indonesia issues 10,000 t under the proposed
// China-Indonesia pilot: 2 % OMGE and 5 % share of proceeds come off the
// top, the investor takes 60 % of the rest.
func ExampleSplit() {
	aps, err := article6.DefaultApproaches()
	if err != nil {
		panic(err)
	}
	sh, err := article6.Split(aps["CN-ID-PILOT"], 10_000, decimal.RequireFromString("0.6"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("OMGE %d, share of proceeds %d, host %d, investor %d\n", sh.OMGE, sh.ShareOfProceeds, sh.Host, sh.Investor)
	// Output: OMGE 200, share of proceeds 500, host 3720, investor 5580
}
