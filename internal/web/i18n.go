package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
	"golang.org/x/text/number"
)

// The message catalogue: one JSON file per language under i18n/, named by
// its BCP 47 tag (en.json, zh-Hans.json; id.json, th.json or vi.json are
// picked up the same way), mapping a message key to its text. Texts are
// x/text/message format strings (%s, %d, %[1]d). Three keys are settings,
// not text: language.name (the language's own name, for the switch) and
// format.datetime (a Go time layout).
//
//go:embed i18n/*.json
var catalogueFS embed.FS

// langCookie remembers the language a user picked with the switch.
const langCookie = "corridor_lang"

// defaultLanguage is the fallback for a missing message and an unmatched
// Accept-Language; its file must hold every key.
var defaultLanguage = language.English

type catalogue struct {
	tags    []language.Tag // defaultLanguage first
	names   map[language.Tag]string
	matcher language.Matcher
	builder *catalog.Builder
	// keys are the default language's message keys, sorted (for tests).
	keys     []string
	messages map[language.Tag]map[string]string
}

// loadCatalogue reads every i18n/*.json file of fsys.
func loadCatalogue(fsys fs.FS) (*catalogue, error) {
	files, err := fs.Glob(fsys, "i18n/*.json")
	if err != nil {
		return nil, fmt.Errorf("web: list catalogues: %w", err)
	}
	c := &catalogue{names: map[language.Tag]string{}, messages: map[language.Tag]map[string]string{},
		builder: catalog.NewBuilder()}
	for _, f := range files {
		tag, err := language.Parse(strings.TrimSuffix(path.Base(f), ".json"))
		if err != nil {
			return nil, fmt.Errorf("web: catalogue %s: file name is not a language tag: %w", f, err)
		}
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("web: read catalogue %s: %w", f, err)
		}
		msgs := map[string]string{}
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", f, err)
		}
		for k, v := range msgs {
			if err := c.builder.SetString(tag, k, v); err != nil {
				return nil, fmt.Errorf("web: catalogue %s key %s: %w", f, k, err)
			}
		}
		c.messages[tag] = msgs
		c.names[tag] = msgs["language.name"]
		if tag == defaultLanguage {
			c.tags = append([]language.Tag{tag}, c.tags...)
		} else {
			c.tags = append(c.tags, tag)
		}
	}
	if len(c.tags) == 0 || c.tags[0] != defaultLanguage {
		return nil, fmt.Errorf("web: no catalogue for the default language %s", defaultLanguage)
	}
	sort.Slice(c.tags[1:], func(i, j int) bool { return c.tags[1+i].String() < c.tags[1+j].String() })
	// A key a language lacks shows in the default language (a partial
	// catalogue is usable while its translation is under way).
	for _, tag := range c.tags[1:] {
		for k, v := range c.messages[defaultLanguage] {
			if _, ok := c.messages[tag][k]; !ok {
				if err := c.builder.SetString(tag, k, v); err != nil {
					return nil, fmt.Errorf("web: catalogue %s key %s: %w", tag, k, err)
				}
			}
		}
	}
	for k := range c.messages[defaultLanguage] {
		c.keys = append(c.keys, k)
	}
	sort.Strings(c.keys)
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// siteCatalogue is the embedded catalogue; a broken file fails every test.
var siteCatalogue = func() *catalogue {
	c, err := loadCatalogue(catalogueFS)
	if err != nil {
		panic(err)
	}
	return c
}()

// pick chooses the page language: the switch's cookie, else the browser's
// Accept-Language, else the default.
func (c *catalogue) pick(r *http.Request) language.Tag {
	var prefs []string
	if ck, err := r.Cookie(langCookie); err == nil {
		prefs = append(prefs, ck.Value)
	}
	prefs = append(prefs, r.Header.Get("Accept-Language"))
	_, i := language.MatchStrings(c.matcher, prefs...)
	return c.tags[i]
}

// known returns the catalogue's tag for s, if it has one.
func (c *catalogue) known(s string) (language.Tag, bool) {
	t, err := language.Parse(s)
	if err != nil {
		return language.Und, false
	}
	for _, k := range c.tags {
		if k == t {
			return k, true
		}
	}
	return language.Und, false
}

// localizer formats text, numbers and dates in one language.
type localizer struct {
	tag language.Tag
	p   *message.Printer
	c   *catalogue
}

func (c *catalogue) localizer(tag language.Tag) localizer {
	return localizer{tag: tag, p: message.NewPrinter(tag, message.Catalog(c.builder)), c: c}
}

// T renders message key with args. Integer arguments are identifiers,
// sequence numbers and years (#1234, vintage 2024), printed without digit
// grouping; a quantity is passed already formatted by Num.
func (l localizer) T(key string, args ...any) string {
	for i, a := range args {
		switch v := a.(type) {
		case int:
			args[i] = plainInt(v)
		case int64:
			args[i] = plainInt(v)
		}
	}
	return l.p.Sprintf(key, args...)
}

// TN renders message key for a count n: key+".one" when n is 1 and the
// catalogue has that form ("1 transfer", not "1 transfers"), else key. A
// language without a singular form gives key.one the same text as key.
func (l localizer) TN(key string, n int, args ...any) string {
	if _, ok := l.c.messages[defaultLanguage][key+".one"]; ok && n == 1 {
		key += ".one"
	}
	return l.T(key, args...)
}

// plainInt prints an integer's digits as they are, whatever the locale.
type plainInt int64

func (p plainInt) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(strconv.FormatInt(int64(p), 10)))
}

// Value names a value of a closed set (a state, a kind, a role): the
// message prefix.value if the catalogue has one, else the value itself, so
// a kind added to the registry shows as its code until it is translated.
func (l localizer) Value(prefix string, v any) string {
	key := prefix + "." + fmt.Sprint(v)
	if _, ok := l.c.messages[defaultLanguage][key]; !ok {
		return fmt.Sprint(v)
	}
	return l.T(key)
}

// Code explains a registry error code in the language, or returns "" when
// the catalogue has no message for it (the registry's own sentence is
// shown then).
func (l localizer) Code(code string) string {
	if _, ok := l.c.messages[defaultLanguage]["code."+code]; !ok || code == "" {
		return ""
	}
	return l.T("code." + code)
}

// Num groups an integer's digits by the locale's rules (CLDR via x/text).
func (l localizer) Num(v int64) string { return l.p.Sprint(number.Decimal(v)) }

// setting is a catalogue value that is not text (a layout): the language's
// own, else the default language's.
func (l localizer) setting(key string) string {
	if v := l.c.messages[l.tag][key]; v != "" {
		return v
	}
	return l.c.messages[defaultLanguage][key]
}

// DateTime renders a time in UTC with the language's layout.
func (l localizer) DateTime(t time.Time) string { return t.UTC().Format(l.setting("format.datetime")) }

// handleLanguage remembers the language picked with the switch for a year
// and goes back to the page it was picked on.
func (s *Site) handleLanguage(w http.ResponseWriter, r *http.Request) {
	if tag, ok := siteCatalogue.known(r.URL.Query().Get("to")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: tag.String(), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath keeps a redirect target on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
