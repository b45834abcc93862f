package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/text/language"

	"github.com/corridor-carbon/corridor/internal/cbam"
	"github.com/corridor-carbon/corridor/internal/hub/protocol"
	"github.com/corridor-carbon/corridor/internal/ledger"
	"github.com/corridor-carbon/corridor/internal/registry"
	"github.com/corridor-carbon/corridor/internal/store/storetest"
)

// verbs lists a message's format verbs, so translations can be checked to
// take the same arguments.
var verbs = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[sdvqxXfgeEt%]`)

// argTypes is the verb letter each argument of a message takes: a
// translation may reorder arguments (%[2]d) but not change them.
func argTypes(msg string) string {
	var out []string
	next := 1
	seen := map[int]byte{}
	for _, m := range verbs.FindAllStringSubmatch(msg, -1) {
		v := m[0][len(m[0])-1]
		if v == '%' {
			continue
		}
		i := next
		if m[1] != "" {
			i = int(m[1][1] - '0')
		}
		seen[i] = v
		next = i + 1
	}
	for i := 1; i <= len(seen); i++ {
		out = append(out, string(seen[i]))
	}
	return strings.Join(out, "")
}

// TestCatalogues: every shipped language has every key of the default
// language, each translation takes the same arguments, and every key the
// templates and handlers use is in the catalogue, as is every value of the
// closed sets the pages name (states, kinds, roles, account types, statuses).
func TestCatalogues(t *testing.T) {
	c := siteCatalogue
	if len(c.tags) < 2 || c.tags[0] != language.English {
		t.Fatalf("languages %v", c.tags)
	}
	en := c.messages[defaultLanguage]
	for _, tag := range c.tags {
		msgs := c.messages[tag]
		if c.names[tag] == "" {
			t.Errorf("%s: no language.name", tag)
		}
		for k, v := range en {
			tr, ok := msgs[k]
			if !ok {
				t.Errorf("%s lacks %s", tag, k)
				continue
			}
			if argTypes(tr) != argTypes(v) {
				t.Errorf("%s %s takes %q, English takes %q", tag, k, argTypes(tr), argTypes(v))
			}
		}
		for k := range msgs {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %s, which English lacks", tag, k)
			}
		}
	}

	used := map[string]bool{}
	tmpl := regexp.MustCompile(`\btn? "([^"]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range tmpl.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	code := regexp.MustCompile(`"((?:error|signin|form|journal|registry|serials|ops|escrows|corridor|transfer|send)\.[a-z_.]+)"`)
	gofiles, _ := filepath.Glob("*.go")
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range code.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], ".html") {
				continue // a template's file name, not a message
			}
			used[m[1]] = true
			if strings.HasPrefix(m[1], "error.") {
				used[m[1]+".title"] = true // the error page's heading
			}
		}
	}
	for _, st := range append(ledger.States, "issued") {
		used["state."+string(st)] = true
	}
	for s := protocol.StatusNone; s <= protocol.StatusAccepted; s++ {
		used["corridor.status."+s.String()] = true
	}
	for _, k := range journalKinds {
		used["kind."+k] = true
	}
	for _, r := range []ledger.Role{ledger.RoleAdmin, ledger.RoleHolder, ledger.RoleAuditor, registry.RoleHub, registry.RoleVenue, registry.RoleSystem} {
		used["role."+string(r)] = true
	}
	for _, a := range []registry.AuthorityRole{registry.AuthorityRegistry, registry.AuthorityHub, registry.AuthorityVenue} {
		used["authority."+string(a)] = true
	}
	for _, a := range []ledger.AccountType{ledger.Holding, ledger.Retirement, ledger.Cancellation, ledger.Buffer, ledger.NationalHolding} {
		used["account_type."+string(a)] = true
	}
	for _, s := range []ledger.AccountStatus{ledger.Open, ledger.Suspended, ledger.Closed} {
		used["account_status."+string(s)] = true
	}
	// Every stable error code of the ledger is explained in the pages.
	for _, code := range []string{ledger.CodeAccountNotFound, ledger.CodeAccountNotOpen, ledger.CodeAcquiringNotFound, ledger.CodeSameAccount,
		ledger.CodeQuantityInvalid, ledger.CodeInsufficientUnits, ledger.CodeMixedUnitTypes, ledger.CodeRangeNotHeld, ledger.CodeUnitsNotActive,
		ledger.CodeDuplicate, ledger.CodeIdempotencyConflict, ledger.CodeSerialInvalid, ledger.CodeNotFound, ledger.CodeInvalid,
		ledger.CodeAccountType, ledger.CodePendingNotFound, ledger.CodeForbidden} {
		used["code."+code] = true
	}
	var missing []string
	for k := range used {
		if _, ok := en[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("keys used but not catalogued: %v", missing)
	}
	if len(used) < 150 {
		t.Fatalf("only %d keys found in use: the scan is broken", len(used))
	}
}

// TestLanguageAddedAsFile: a new catalogue file is a new language, with no
// code change; a key it lacks falls back to English.
func TestLanguageAddedAsFile(t *testing.T) {
	en, _ := catalogueFS.ReadFile("i18n/en.json")
	vi, _ := json.Marshal(map[string]string{"language.name": "Tiếng Việt", "nav.registry": "Sổ đăng ký", "registry.title": "Sổ đăng ký %s",
		"format.datetime": "02/01/2006 15:04"})
	c, err := loadCatalogue(fstest.MapFS{"i18n/en.json": {Data: en}, "i18n/vi.json": {Data: vi}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "vi-VN,vi;q=0.9,en;q=0.5")
	tag := c.pick(r)
	if tag != language.Vietnamese {
		t.Fatalf("picked %v for a Vietnamese browser", tag)
	}
	l := c.localizer(tag)
	if got := l.T("registry.title", "VN"); got != "Sổ đăng ký VN" {
		t.Errorf("translated %q", got)
	}
	if got := l.T("nav.serials"); got != "Serial lookup" {
		t.Errorf("missing key gave %q, want the English text", got)
	}
	if got := l.DateTime(time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)); got != "09/03/2026 14:05" {
		t.Errorf("date-time in the language's layout: %q", got)
	}
	if got := c.localizer(language.English).DateTime(time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)); got != "2026-03-09 14:05 UTC" {
		t.Errorf("English date-time: %q", got)
	}
	if _, err := loadCatalogue(fstest.MapFS{"i18n/en.json": {Data: en}, "i18n/not a tag.json": {Data: vi}}); err == nil {
		t.Error("a file not named by a language tag was accepted")
	}
}

// TestLanguagePick: the switch's cookie wins over Accept-Language, which
// wins over the default; numbers and dates follow the language.
func TestLanguagePick(t *testing.T) {
	c := siteCatalogue
	zh := language.MustParse("zh-Hans")
	for _, tc := range []struct {
		cookie, accept string
		want           language.Tag
	}{
		{"", "", language.English},
		{"", "zh-CN,zh;q=0.9", zh},
		{"", "fr-FR", language.English},
		{"en", "zh-CN", language.English},
		{"zh-Hans", "en-GB", zh},
		{"garbage", "zh-TW;q=0.5,zh-CN", zh},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tc.cookie})
		}
		if tc.accept != "" {
			r.Header.Set("Accept-Language", tc.accept)
		}
		if got := c.pick(r); got != tc.want {
			t.Errorf("cookie %q, Accept-Language %q: %v, want %v", tc.cookie, tc.accept, got, tc.want)
		}
	}
	day := time.Date(2026, 12, 1, 8, 5, 0, 0, time.UTC)
	for tag, want := range map[language.Tag][3]string{
		language.English: {"1,234,567", "2026-12-01 08:05 UTC", "-42"},
		zh:               {"1,234,567", "2026年12月1日 08:05 UTC", "-42"},
	} {
		l := c.localizer(tag)
		if got := [3]string{l.Num(1234567), l.DateTime(day), l.Num(-42)}; got != want {
			t.Errorf("%v: %v, want %v", tag, got, want)
		}
	}
}

// TestLanguageSwitch remembers the choice in a cookie and goes back to the
// page, never off the site.
func TestLanguageSwitch(t *testing.T) {
	d := newDemoSite(t, 1, storetest.SQLite)
	v := d.visitor(t)
	p := v.get("/language?to=zh-Hans&next=/registries/CN")
	if c := cookieNamed(p.cookies, langCookie); p.status != http.StatusSeeOther || p.location != "/registries/CN" || c == nil || c.Value != "zh-Hans" {
		t.Fatalf("switch: %d to %q, cookie %+v", p.status, p.location, cookieNamed(p.cookies, langCookie))
	}
	if p := v.get("/registries/CN"); !strings.Contains(p.body, `<html lang="zh-Hans">`) || !strings.Contains(p.body, "登记簿 CN") {
		t.Fatalf("page after switching is not Chinese:\n%.500s", p.body)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		if p := v.get("/language?to=en&next=" + next); p.location != "/" {
			t.Errorf("next %q redirected to %q", next, p.location)
		}
	}
	if p := v.get("/language?to=xx-nope&next=/"); cookieNamed(p.cookies, langCookie) != nil {
		t.Error("an unknown language was remembered")
	}
}

// TestNotFoundPage: a browser path nobody serves gets the 404 page in the
// site's layout and language; an API path keeps problem+json.
func TestNotFoundPage(t *testing.T) {
	d := newDemoSite(t, 1, storetest.SQLite)
	v := d.visitor(t)
	for path, want := range map[string]string{"/no/such/page": "Page not found", "/registries/XX": "Registry XX does not run on this server.",
		"/registries/CN/accounts/abc": "must be a whole number"} {
		p := v.get(path)
		wantStatus := http.StatusNotFound
		if strings.HasSuffix(path, "abc") {
			wantStatus = http.StatusBadRequest
		}
		if p.status != wantStatus || !strings.Contains(p.text(), want) || !strings.Contains(p.body, `<nav>`) {
			t.Errorf("%s: %d, want %d with %q in the layout:\n%.300s", path, p.status, wantStatus, want, p.body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, d.srv.URL+"/nowhere", nil)
	req.Header.Set("Accept-Language", "zh-CN")
	if p := v.do(req); p.status != http.StatusNotFound || !strings.Contains(p.body, "未找到页面") {
		t.Errorf("Chinese 404: %d\n%.300s", p.status, p.body)
	}
	// Routed as 'corridor serve' routes it, the API answers its own paths;
	// the site alone answers an API path with a problem too.
	res, err := http.Get(d.srv.URL + "/api/v1/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	w := httptest.NewRecorder()
	d.site.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/elsewhere", nil))
	var prob map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &prob)
	for i, r := range []*http.Response{res, w.Result()} {
		if r.StatusCode != http.StatusNotFound || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("API 404 %d: %d %s", i, r.StatusCode, r.Header.Get("Content-Type"))
		}
	}
	if prob["code"] != "not_found" {
		t.Errorf("site's API 404: %v", prob)
	}
	if p := v.get("/signout"); p.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /signout: %d, want 405", p.status)
	}
}

// TestSupersededNoteCatalogued: the CBAM pages show the catalogue's copy of
// the superseded-dataset note (so it can be translated); the English copy
// must say what the cbam package says.
func TestSupersededNoteCatalogued(t *testing.T) {
	en := siteCatalogue.messages[defaultLanguage]
	for _, k := range []string{"cbam.superseded_note", "cbam.js.superseded_note"} {
		if en[k] != cbam.SupersededNote {
			t.Errorf("%s = %q, want cbam.SupersededNote %q", k, en[k], cbam.SupersededNote)
		}
	}
}
