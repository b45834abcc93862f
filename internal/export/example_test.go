package export_test

import (
	"fmt"
	"os"
	"time"

	"github.com/corridor-carbon/corridor/internal/export"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// A retirement record becomes one CSV row per retired block, with the
// CAD Trust unit columns filled from the serial and the issuance.
func ExampleNewWriter() {
	w, err := export.NewWriter(os.Stdout, export.Options{
		Format:   export.CSV,
		Kind:     export.Retirements,
		Registry: "TH",
		Issuances: []registry.IssuanceView{{Issuance: ledger.Issuance{ID: 2, Standard: "T-VER",
			ProjectName: "Community forest restoration (demo)", Methodology: "Afforestation and reforestation (demo description)"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = w.Retirement(registry.Retirement{
		Seq: 18, At: time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC), Quantity: 2500,
		Beneficiary: "Thai Steel Exporter (demo)", Purpose: "voluntary", ComplianceYear: 2025,
		Blocks: []registry.BlockView{{Serial: "TH-TVER-TVER-DEMO-FOREST-2024-2-1-2500", IssuanceID: 2, Start: 1, End: 2500, Quantity: 2500, State: ledger.Retired}},
	})
	if err == nil {
		err = w.Close()
	}
	fmt.Println(w.Rows(), "row;", err)
	// Output:
	// currentRegistry,seq,timestamp,serialNumberBlock,unitBlockStart,unitBlockEnd,unitCount,vintageYear,unitType,unitStatus,unitStatusReason,retirementBeneficiary,complianceYear,retirementNote,issuanceId,projectId,projectName,methodology,program
	// TH,18,2025-06-30T08:00:00Z,TH-TVER-TVER-DEMO-FOREST-2024-2-1-2500,1,2500,2500,2024,TVER,Retired,voluntary,Thai Steel Exporter (demo),2025,,2,TVER-DEMO-FOREST,Community forest restoration (demo),Afforestation and reforestation (demo description),T-VER
	// 1 row; <nil>
}
