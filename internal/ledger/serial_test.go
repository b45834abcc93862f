package ledger

import (
	"strings"
	"testing"
)

func TestParseSerial(t *testing.T) {
	tests := []struct {
		in      string
		want    Serial
		wantErr string
	}{
		{in: "CN-CCER-CCER-14-2024-001-2024-3-1-5000", want: Serial{"CN", "CCER", "CCER-14-2024-001", 2024, 3, 1, 5000}},
		{in: "ID-SPEGRK-IDN.1234-2023-1-42-42", want: Serial{"ID", "SPEGRK", "IDN.1234", 2023, 1, 42, 42}},
		{in: "TH-TVER-P1-2022-7-1000000000-2000000000", want: Serial{"TH", "TVER", "P1", 2022, 7, 1000000000, 2000000000}},
		{in: "CN-CCER-P1-2024-1-10-9", wantErr: "before block start"},
		{in: "CN-CCER-P1-2024-1-0-9", wantErr: "at least 1"},
		{in: "CN-CCER-P1-2024-0-1-9", wantErr: "at least 1"},
		{in: "CN-CCER-P1-2024-1-01-9", wantErr: "leading zero"},
		{in: "CN-CCER-P1-24-1-1-9", wantErr: "four-digit"},
		{in: "cn-CCER-P1-2024-1-1-9", wantErr: "registry code"},
		{in: "CN-CC-ER-2024-1-1-9", wantErr: ""},
		{in: "CN-CCER-2024-1-1-9", wantErr: "fields"},
		{in: "CN-CCER--P1-2024-1-1-9", wantErr: "project"},
		{in: "CN-CCER-P1-2024-1-1-+9", wantErr: "not a decimal"},
		{in: "CN-CCER-P1-2024-1-1-99999999999999999999", wantErr: "out of range"},
		{in: "CN-CCER-P1-2024-1-1-1000000000000001", wantErr: "exceeds"},
		{in: "CN-CCER-P 1-2024-1-1-9", wantErr: "project"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSerial(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSerial(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				if e, ok := AsError(err); !ok || e.Code != CodeSerialInvalid {
					t.Fatalf("error %v is not a serial_invalid *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSerial(%q): %v", tt.in, err)
			}
			if tt.want.Registry != "" && got != tt.want {
				t.Fatalf("ParseSerial(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("round trip: %q -> %q", tt.in, got.String())
			}
		})
	}
}

func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{"CN-CCER-CCER-14-2024-001-2024-3-1-5000", "ID-SPEGRK-X-2023-1-1-1", "A-B-C-D-E-F-G", "--------", "CN-CCER-P-2024-1-1-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSerial(in)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("error is not a ledger error: %v", err)
			}
			return
		}
		if s.String() != in {
			t.Fatalf("accepted %q but renders %q", in, s.String())
		}
		if s.Start < 1 || s.End < s.Start || s.End > MaxSerial || s.Count() < 1 {
			t.Fatalf("accepted bad block %+v", s)
		}
		again, err := ParseSerial(s.String())
		if err != nil || again != s {
			t.Fatalf("re-parse of %q: %+v, %v", s.String(), again, err)
		}
	})
}

func TestSplitAt(t *testing.T) {
	b := Block{Issuance: 1, Start: 1, End: 1_000_000_000, Account: 7, State: Held}
	lo, hi := b.SplitAt(2)
	if lo.Start != 1 || lo.End != 1 || hi.Start != 2 || hi.End != 1_000_000_000 || lo.Count()+hi.Count() != b.Count() {
		t.Fatalf("SplitAt(2) = %+v %+v", lo, hi)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SplitAt at Start did not panic")
		}
	}()
	b.SplitAt(1)
}
