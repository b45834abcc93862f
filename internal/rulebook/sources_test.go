package rulebook

import (
	"regexp"
	"strings"
	"testing"
)

// reNotReRead matches the seen text of a source whose document was cited
// from earlier notes rather than read for this dataset; its URL may then have
// been written from memory.
var reNotReRead = regexp.MustCompile(`(?i)not re-read`)

// TestUnreadSourcesStateTheirURL: a source whose text was not re-read still
// shows users a URL, so its seen text says whether that URL was checked
// ("URL checked <date>: …") or not ("URL unverified: …"), instead of leaving
// an address from memory unmarked.
func TestUnreadSourcesStateTheirURL(t *testing.T) {
	rb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range rb.Sources() {
		if s.URL == "" || !reNotReRead.MatchString(s.Seen) {
			continue
		}
		n++
		if !strings.Contains(s.Seen, "URL checked 20") && !strings.Contains(s.Seen, "URL unverified") {
			t.Errorf("source %s (%s) was not re-read and says nothing about its URL: %q", s.ID, s.URL, s.Seen)
		}
	}
	if n == 0 {
		t.Fatal("no source is marked not re-read: the test checks nothing")
	}
}

// TestJCMSourceIsTheMinistryPage: the JCM source once pointed at an address
// written from memory; it now cites the Ministry of Foreign Affairs page that
// was read, with that page's date.
func TestJCMSourceIsTheMinistryPage(t *testing.T) {
	rb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := rb.Source("jp-jcm")
	if !ok {
		t.Fatal("source jp-jcm missing")
	}
	if s.URL != "https://www.mofa.go.jp/ic/ch/page1we_000105.html" || s.Date != "2024-02-22" || !strings.HasPrefix(s.Seen, "Read 2026-12-01") {
		t.Errorf("jp-jcm: %+v", s)
	}
}

// TestCCERMeasuresCiteMEE: the CCER Measures (MEE/SAMR Order No. 31)
// were cited to a trade-press reproduction; the source now names the
// Ministry's own page and says that page was not opened, and every rule and
// programme citing the Measures shows that address.
func TestCCERMeasuresCiteMEE(t *testing.T) {
	rb, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := rb.Source("cn-ccer-measures-2023")
	if !ok {
		t.Fatal("source cn-ccer-measures-2023 missing")
	}
	if !strings.HasPrefix(s.URL, "https://www.mee.gov.cn/") || s.Kind != "official" || !strings.Contains(s.Title, "Order No. 31") || !strings.Contains(s.Seen, "URL unverified") {
		t.Errorf("cn-ccer-measures-2023: %+v", s)
	}
	in, _ := rb.Instrument("CCER")
	for _, p := range rb.Programmes() {
		if p.Code == "CCER" && p.Cite.URL != s.URL {
			t.Errorf("programme CCER cites %q", p.Cite.URL)
		}
	}
	if in.Cite.URL != s.URL {
		t.Errorf("instrument CCER cites %q", in.Cite.URL)
	}
}
