package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalidText is the error (see TextError) for a text value that is not
// valid UTF-8 or holds a NUL byte. PostgreSQL cannot store either in a TEXT
// column of a UTF8 database (PostgreSQL documentation, "Character Types":
// "the character with code zero (sometimes called NUL) cannot be stored";
// invalid sequences fail with SQLSTATE 22021), while SQLite stores any
// bytes; this package refuses both on every driver, so a ledger moved from
// one database to the other holds the same text.
var ErrInvalidText = errors.New("store: text must be valid UTF-8 without NUL bytes")

// TextError names the value ErrInvalidText refused.
type TextError struct {
	Table, Column string
	// Offset is the byte offset of the first bad byte in the value.
	Offset int
	// NUL is true for a NUL byte, false for an invalid UTF-8 sequence.
	NUL bool
}

func (e *TextError) Error() string {
	what := "invalid UTF-8"
	if e.NUL {
		what = "a NUL byte"
	}
	return fmt.Sprintf("store: %s.%s holds %s at byte %d", e.Table, e.Column, what, e.Offset)
}

// Is makes errors.Is(err, ErrInvalidText) hold.
func (e *TextError) Is(target error) bool { return target == ErrInvalidText }

// badText returns the offset of the first byte no driver can store, or -1.
func badText(s string) (offset int, nul bool) {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return -1, false // the common case, checked word- and vector-wise
	}
	for i, r := range s {
		switch {
		case r == 0:
			return i, true
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i, false
			}
		}
	}
	return -1, false
}

// storable reports whether s can be stored (and so can ever be found).
func storable(s string) bool {
	off, _ := badText(s)
	return off < 0
}

// checkText returns a *TextError when s cannot be stored in table.column.
func checkText(table, column, s string) error {
	if off, nul := badText(s); off >= 0 {
		return &TextError{Table: table, Column: column, Offset: off, NUL: nul}
	}
	return nil
}

// checkRow checks the text values of one row; cols names them in order.
func checkRow(table, cols string, row []any) error {
	for i, v := range row {
		if s, ok := v.(string); ok {
			if err := checkText(table, column(cols, i), s); err != nil {
				return err
			}
		}
	}
	return nil
}

// column returns the i-th name of a comma-separated column list.
func column(cols string, i int) string {
	names := strings.Split(cols, ",")
	if i >= len(names) {
		return "?"
	}
	return strings.TrimSpace(names[i])
}
