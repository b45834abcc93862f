package cbam

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

func TestRetainedFreeAllocationShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		year int
		want string
	}{
		{2026, "0.975"}, {2027, "0.95"}, {2028, "0.9"}, {2029, "0.775"}, {2030, "0.515"},
		{2031, "0.39"}, {2032, "0.265"}, {2033, "0.14"}, {2034, "0"}, {2040, "0"},
	}
	for _, tt := range tests {
		got, err := RetainedFreeAllocationShare(tt.year)
		if err != nil {
			t.Fatalf("%d: %v", tt.year, err)
		}
		if !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("RetainedFreeAllocationShare(%d) = %s, want %s", tt.year, got, tt.want)
		}
	}
	if _, err := RetainedFreeAllocationShare(2025); !errors.Is(err, ErrYearBeforeDefinitive) {
		t.Errorf("2025: err = %v, want ErrYearBeforeDefinitive", err)
	}
}

func TestRetainedShareNeverRises(t *testing.T) {
	t.Parallel()
	prev := decimal.NewFromInt(1)
	for y := 2026; y <= 2036; y++ {
		v, _ := RetainedFreeAllocationShare(y)
		if v.GreaterThan(prev) {
			t.Errorf("%d: share %s rises above %s", y, v, prev)
		}
		prev = v
	}
}

func TestDefaultValueMarkUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sector Sector
		year   int
		want   string
	}{
		{SectorIronSteel, 2026, "0.1"}, {SectorIronSteel, 2027, "0.2"}, {SectorIronSteel, 2028, "0.3"},
		{SectorIronSteel, 2034, "0.3"}, {SectorAluminium, 2026, "0.1"}, {SectorCement, 2030, "0.3"},
		{SectorHydrogen, 2027, "0.2"}, {SectorFertilisers, 2026, "0.01"}, {SectorFertilisers, 2030, "0.01"},
	}
	for _, tt := range tests {
		got, err := DefaultValueMarkUp(tt.sector, tt.year)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(decimal.RequireFromString(tt.want)) {
			t.Errorf("DefaultValueMarkUp(%s, %d) = %s, want %s", tt.sector, tt.year, got, tt.want)
		}
	}
	if _, err := DefaultValueMarkUp(SectorElectricity, 2026); err == nil {
		t.Error("electricity: want error")
	}
	if _, err := DefaultValueMarkUp(SectorCement, 2025); err == nil {
		t.Error("2025: want error")
	}
}

func TestSectorOfCN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cn   string
		want Sector
		ok   bool
	}{
		{"72081000", SectorIronSteel, true}, {"7208", SectorIronSteel, true}, {"26011200", SectorIronSteel, true},
		{"73181100", SectorIronSteel, true}, {"73121000", "", false}, {"76011010", SectorAluminium, true},
		{"76151000", "", false}, {"25231000", SectorCement, true}, {"25070080", SectorCement, true},
		// Kaolin (2507 00 20) is not a CBAM good: Annex I lists only ex 2507 00 80
		// (Reg. (EU) 2025/2083: other kaolinic clays, except non-calcined).
		{"25070020", "", false}, {"2507", "", false}, {"2507008080", SectorCement, true}, {"2523100090", SectorCement, true},
		{"28041000", SectorHydrogen, true}, {"28042100", "", false}, {"31021012", SectorFertilisers, true},
		{"28342100", SectorFertilisers, true}, {"31056000", "", false}, {"72042100", "", false}, {"72022100", "", false},
		{"72024110", SectorIronSteel, true}, {"72026000", SectorIronSteel, true}, {"27160000", SectorElectricity, true}, {"01012100", "", false},
	}
	for _, tt := range tests {
		got, ok := SectorOfCN(tt.cn)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SectorOfCN(%s) = %s, %v; want %s, %v", tt.cn, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCSCF(t *testing.T) {
	t.Parallel()
	for y := 2026; y <= 2030; y++ {
		if !CSCF(y).Equal(decimal.NewFromInt(1)) || CSCFIsAssumed(y) {
			t.Errorf("CSCF(%d) = %s (assumed %v), want published 1", y, CSCF(y), CSCFIsAssumed(y))
		}
	}
	if !CSCFIsAssumed(2031) {
		t.Error("CSCF(2031) must be flagged as an assumption")
	}
}
