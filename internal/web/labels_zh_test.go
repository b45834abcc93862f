package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPageLabelsTranslated: the rulebook's MRV row headers, rule statuses
// and recognition labels, the Article 6 page's AEF table headings and the
// CBAM page's origin names come from the catalogue (or CLDR) in Chinese,
// and the AEF's AuthorizedEntities reads "Authorized entities" in English.
func TestPageLabelsTranslated(t *testing.T) {
	srv := httptest.NewServer(New().WithArticle6(a6Ledger{projectAbroadLedger(t)}).Handler())
	defer srv.Close()
	get := func(path, lang string) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", lang, path, resp.StatusCode)
		}
		return string(b)
	}
	for _, c := range []struct {
		path      string
		zh, notZh []string
		en, notEn []string
	}{
		{"/rulebook",
			[]string{">门槛</th>", ">默认因子</th>", ">前体物处理</th>", ">核查</th>", ">范围：直接／间接排放</th>", ">已确认</span>", ">未核实</span>", "未互认（未找到协议）"},
			[]string{">Thresholds<", ">Default factors<", ">Precursor treatment<", ">Verification<", "Scope: direct", ">confirmed</span>", ">unverified</span>", ">inference</span>", "recognised with conditions", "not recognised"},
			[]string{">Thresholds</th>", ">confirmed</span>", "not recognised (no agreement found)"}, nil},
		{"/corridor/article6?party=ID&year=2026",
			[]string{"<h4>提交信息（Submission）</h4>", "<h4>持有量（Holdings）</h4>", "<h4>授权实体（Authorized entities）</h4>", "下载 持有量（Holdings）"},
			[]string{"<h4>Holdings</h4>", "<h4>AuthorizedEntities</h4>", "下载 Holdings"},
			[]string{"<h4>Authorized entities</h4>", "<h4>Holdings</h4>"}, []string{"<h4>AuthorizedEntities</h4>"}},
		{"/cbam", []string{">中国</option>", ">越南</option>", ">泰国</option>"}, []string{">China</option>", ">Viet Nam</option>", ">Thailand</option>"},
			[]string{">China</option>"}, nil},
	} {
		zh, en := get(c.path, "zh-Hans"), get(c.path, "en")
		for _, w := range c.zh {
			if !strings.Contains(zh, w) {
				t.Errorf("zh %s lacks %q", c.path, w)
			}
		}
		for _, w := range c.notZh {
			if strings.Contains(zh, w) {
				t.Errorf("zh %s still shows %q", c.path, w)
			}
		}
		for _, w := range c.en {
			if !strings.Contains(en, w) {
				t.Errorf("en %s lacks %q", c.path, w)
			}
		}
		for _, w := range c.notEn {
			if strings.Contains(en, w) {
				t.Errorf("en %s shows %q", c.path, w)
			}
		}
	}
}

// TestHomeRegistriesCardLinks: the home page's Registries card is a link,
// like its neighbours, to the registries table above it.
func TestHomeRegistriesCardLinks(t *testing.T) {
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `<a id="card-registries" href="#registries">`) || !strings.Contains(string(b), `id="registries"`) {
		t.Errorf("home page: no link from the Registries card to the registries table")
	}
}
