package client

import (
	"strconv"

	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
)

// Every write answers a registry.Result; reading it with encoding/json's
// reflection was a tenth of the client's time per transfer. decodeResult
// reads the answers the server writes (plain text, known members, each
// once) into a zero Result directly, and reports false for anything else,
// which encoding/json then reads (FuzzDecodeResultAgrees).
func decodeResult(raw []byte, res *registry.Result) bool {
	if res.Blocks != nil || res.Authority != nil {
		return false // encoding/json would merge into these
	}
	d := resultScanner{b: raw}
	var out registry.Result
	ok := d.object(func(key string) bool {
		switch key {
		case "seq":
			return d.int(&out.Seq)
		case "kind":
			return d.str(&out.Kind)
		case "at":
			return d.time(&out)
		case "id":
			return d.int(&out.ID)
		case "quantity":
			return d.int(&out.Quantity)
		case "pending":
			return d.int(&out.Pending)
		case "token":
			return d.str(&out.Token)
		case "replayed":
			return d.bool(&out.Replayed)
		case "blocks":
			out.Blocks = []registry.BlockView{}
			return d.array(func() bool {
				var v registry.BlockView
				var state string
				ok := d.object(func(key string) bool {
					switch key {
					case "serial":
						return d.str(&v.Serial)
					case "issuance_id":
						return d.int(&v.IssuanceID)
					case "start":
						return d.int(&v.Start)
					case "end":
						return d.int(&v.End)
					case "quantity":
						return d.int(&v.Quantity)
					case "account_id":
						return d.int(&v.AccountID)
					case "state":
						return d.str(&state)
					case "pending":
						return d.int(&v.Pending)
					}
					return false
				})
				v.State = ledger.State(state)
				out.Blocks = append(out.Blocks, v)
				return ok
			})
		}
		return false // expires_at, authority, anything else: encoding/json
	})
	d.space()
	if !ok || d.i != len(d.b) {
		return false
	}
	*res = out
	return true
}

type resultScanner struct {
	b []byte
	i int
}

func (d *resultScanner) space() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

func (d *resultScanner) byte(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object whose member values member reads; a key given
// twice is left to encoding/json.
func (d *resultScanner) object(member func(key string) bool) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	seen := make([]string, 0, 16)
	for {
		var key string
		if !d.str(&key) || !d.byte(':') {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if !member(key) {
			return false
		}
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

func (d *resultScanner) array(item func() bool) bool {
	if !d.byte('[') {
		return false
	}
	if d.byte(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if d.byte(']') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// str reads a string of printable ASCII without escapes.
func (d *resultScanner) str(v *string) bool {
	b, ok := d.text()
	if ok {
		*v = intern(b)
	}
	return ok
}

// text reads a string of printable ASCII without escapes and returns its
// bytes (in d.b).
func (d *resultScanner) text() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for ; d.i < len(d.b); d.i++ {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// intern is string(b) without an allocation for the member names and the
// kinds and states every answer repeats (a switch on string(b) does not
// copy b).
func intern(b []byte) string {
	switch string(b) {
	case "seq":
		return "seq"
	case "kind":
		return "kind"
	case "at":
		return "at"
	case "id":
		return "id"
	case "quantity":
		return "quantity"
	case "blocks":
		return "blocks"
	case "pending":
		return "pending"
	case "replayed":
		return "replayed"
	case "serial":
		return "serial"
	case "issuance_id":
		return "issuance_id"
	case "start":
		return "start"
	case "end":
		return "end"
	case "account_id":
		return "account_id"
	case "state":
		return "state"
	case "transfer":
		return "transfer"
	case string(ledger.Held):
		return string(ledger.Held)
	}
	return string(b)
}

// int reads an integer as JSON spells it (no fraction or exponent) that
// fits an int64.
func (d *resultScanner) int(v *int64) bool {
	d.space()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if n := d.i - digits; n == 0 || n > 1 && d.b[digits] == '0' {
		return false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return false
	}
	x, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	*v = x
	return err == nil
}

func (d *resultScanner) bool(v *bool) bool {
	d.space()
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		*v, d.i = true, d.i+4
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		*v, d.i = false, d.i+5
	default:
		return false
	}
	return true
}

// time reads the result's time as time.Time's UnmarshalJSON does.
func (d *resultScanner) time(res *registry.Result) bool {
	d.space()
	start := d.i
	if _, ok := d.text(); !ok {
		return false
	}
	return res.At.UnmarshalJSON(d.b[start:d.i]) == nil
}
