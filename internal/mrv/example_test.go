package mrv_test

import (
	"fmt"

	"github.com/corridor-carbon/corridor/internal/mrv"
	"github.com/shopspring/decimal"
)

func ExampleCompute() {
	n := decimal.RequireFromString
	r, err := mrv.Compute(mrv.Installation{
		Name: "Clinker kiln", Country: "VN", Year: 2026,
		Streams: []mrv.SourceStream{
			{ID: "coal", Process: "kiln", Kind: "combustion", Quantity: n("1000"), NCV: n("0.0255"), EF: n("94.6")},
			{ID: "raw meal", Process: "kiln", Kind: "process", Quantity: n("12000"), EF: n("0.44")},
		},
		Electricity: []mrv.ElectricityUse{{Process: "kiln", MWh: n("800"), Factor: n("0.58")}},
		Processes:   []mrv.Process{{ID: "kiln", CN: "25231000", ActivityLevel: n("10000")}},
	})
	if err != nil {
		panic(err)
	}
	g := r.Goods[0]
	fmt.Println("direct", r.Direct, "indirect", r.Indirect)
	fmt.Println("clinker SEE direct", g.SEEDirect, "indirect", g.SEEIndirect, "CBAM", g.SEECBAM)
	// Output:
	// direct 7692.3 indirect 464
	// clinker SEE direct 0.76923 indirect 0.0464 CBAM 0.81563
}
