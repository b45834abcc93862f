package store

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckText: checkText refuses exactly the strings that are not valid
// UTF-8 or hold NUL, and points at the first bad byte.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "abc", "Việt Nam", "\x00", "a\xff", "\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\U0010ffff", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkText("t", "c", s)
		ok := utf8.ValidString(s) && !strings.Contains(s, "\x00")
		if (err == nil) != ok {
			t.Fatalf("checkText(%q) = %v; valid UTF-8 without NUL: %v", s, err, ok)
		}
		if ok {
			return
		}
		var te *TextError
		if !errors.As(err, &te) || !errors.Is(err, ErrInvalidText) {
			t.Fatalf("checkText(%q) = %v, want a *TextError", s, err)
		}
		head := s[:te.Offset]
		if !utf8.ValidString(head) || strings.Contains(head, "\x00") {
			t.Fatalf("checkText(%q): offset %d is not the first bad byte", s, te.Offset)
		}
		r, size := utf8.DecodeRuneInString(s[te.Offset:])
		if te.NUL != (r == 0) || !te.NUL && !(r == utf8.RuneError && size == 1) {
			t.Fatalf("checkText(%q): byte %d is not bad as reported (NUL %v)", s, te.Offset, te.NUL)
		}
	})
}
