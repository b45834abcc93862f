package web

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/text/language"
)

// TestPluralForms: a count of one takes the singular form in English
// ("1 transfer", "1 row"), other counts the plural; Chinese has one form.
func TestPluralForms(t *testing.T) {
	en := siteCatalogue.localizer(language.English)
	for _, tc := range []struct {
		key  string
		n    int
		args []any
		want string
	}{
		{"corridor.edge_title", 1, []any{"CN", "TH", "5", 1}, "CN → TH: 5 units in 1 transfer"},
		{"corridor.edge_title", 2, []any{"CN", "TH", "5", 2}, "CN → TH: 5 units in 2 transfers"},
		{"article6.rows", 1, []any{1}, "1 row"},
		{"article6.rows", 0, []any{0}, "0 rows"},
		{"escrows.more", 1, []any{1}, "1 more reservation is pending; settle the oldest first."},
	} {
		if got := en.TN(tc.key, tc.n, tc.args...); got != tc.want {
			t.Errorf("TN(%s, %d) = %q, want %q", tc.key, tc.n, got, tc.want)
		}
	}
	zh := siteCatalogue.localizer(language.MustParse("zh-Hans"))
	if got := zh.TN("article6.rows", 1, 1); got != "1 行" {
		t.Errorf("zh-Hans TN(article6.rows, 1) = %q", got)
	}
	// Every message with a singular form is rendered through tn: a t of
	// it would print the plural for one.
	files, _ := filepath.Glob("templates/*.html")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, key := range []string{"corridor.edge_title", "article6.rows", "escrows.more"} {
			if regexp.MustCompile(`\bt "` + regexp.QuoteMeta(key) + `"`).Match(b) {
				t.Errorf("%s renders %s with t, not tn", f, key)
			}
		}
	}
}
