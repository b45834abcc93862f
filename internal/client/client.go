// Package client is the Go client of Corridor's HTTP API, used by the CLI
// and by the end-to-end tests.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/corridor-carbon/corridor/internal/registry"
)

// Client talks to one Corridor server.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string // API token; empty for public reads
	HTTP    *http.Client
}

// New returns a client for baseURL with token. Clients made by New share
// one connection pool (sharedHTTP).
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: sharedHTTP}
}

// maxIdlePerHost is how many idle keep-alive connections the shared pool
// keeps to one server. http.DefaultTransport keeps 2, so a program with
// more concurrent requests than that (the CLI's benchmarks, a test with
// many clients) opened a new connection for almost every request.
const maxIdlePerHost = 256

// sharedHTTP is http.DefaultTransport's settings (proxy from the
// environment, timeouts) with a pool sized for many concurrent requests.
var sharedHTTP = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(tr.MaxIdleConns, maxIdlePerHost)
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	return &http.Client{Transport: tr}
}()

// jsonContentType is the Content-Type header value of every request body
// (shared: the transport only reads a request's headers).
var jsonContentType = []string{"application/json"}

// Problem is an API error response (application/problem+json).
type Problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field,omitempty"`
}

func (p *Problem) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d): %s", p.Code, p.Status, p.Detail)
	if p.Field != "" {
		msg += " [field " + p.Field + "]"
	}
	return msg
}

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (if not nil). key, if not empty, is sent as the Idempotency-Key.
// It returns the HTTP status.
func (c *Client) Do(ctx context.Context, method, path, key string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		raw, ok := body.(json.RawMessage) // already encoded (Submit): sent as it is
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return 0, fmt.Errorf("client: encode request: %w", err)
			}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	// The header names are in canonical form already, so they are set
	// without Header.Set's canonicalising.
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
	}
	if c.Token != "" {
		req.Header["Authorization"] = []string{"Bearer " + c.Token}
	}
	if key != "" {
		req.Header["Idempotency-Key"] = []string{key}
	}
	hc := c.HTTP
	if hc == nil {
		hc = sharedHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := readAll(resp)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("client: read response: %w", err)
	}
	if resp.StatusCode >= 400 {
		p := &Problem{Status: resp.StatusCode}
		if json.Unmarshal(raw, p) != nil || p.Code == "" {
			*p = Problem{Status: resp.StatusCode, Code: "http_error", Detail: NotProblem(resp, raw)}
		}
		return resp.StatusCode, p
	}
	if out != nil {
		if res, ok := out.(*registry.Result); ok && decodeResult(raw, res) {
			return resp.StatusCode, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "application/problem+json" {
				return resp.StatusCode, fmt.Errorf("client: %s %s: the server answered %s with %s, not JSON (is the URL a Corridor server's?)", method, path, resp.Status, mt)
			}
			return resp.StatusCode, fmt.Errorf("client: decode response of %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// maxResponseBytes bounds the answer the client reads.
const maxResponseBytes = 64 << 20

// readAll reads resp's body (at most maxResponseBytes) into a buffer sized
// from its Content-Length when the server sent one.
func readAll(resp *http.Response) ([]byte, error) {
	body := io.LimitReader(resp.Body, maxResponseBytes)
	if n := resp.ContentLength; n > 0 && n <= maxResponseBytes && (resp.Request == nil || resp.Request.Method != http.MethodHead) {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}

// NotProblem describes an error answer that is not a Corridor problem (a
// proxy's or another web server's page) in one sentence. The body is
// quoted only when it is one short line of plain text: an HTML page
// printed on a terminal tells nobody anything.
func NotProblem(resp *http.Response, raw []byte) string {
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	msg := fmt.Sprintf("the server answered %s", resp.Status)
	if ct != "" {
		msg += " with " + mt
	}
	msg += ", not a Corridor API's problem document (is the URL a Corridor server's?)"
	if text := strings.TrimSpace(string(raw)); mt == "text/plain" && text != "" && len(text) <= 200 && !strings.ContainsAny(text, "\n<") {
		msg += ": " + text
	}
	return msg
}

func regPath(reg, rest string) string {
	return "/api/v1/registries/" + url.PathEscape(reg) + rest
}

// Submit sends a ledger transaction to registry reg and returns its result.
// The endpoint and body come from the request's kind (registry.Kinds).
func (c *Client) Submit(ctx context.Context, reg, key string, req registry.Request) (registry.Result, error) {
	var res registry.Result
	k := registry.KindFor(req)
	if k == nil || k.Route == "" {
		return res, fmt.Errorf("client: %T is not a transaction callers submit", req)
	}
	body, err := k.Body(req)
	if err != nil {
		return res, fmt.Errorf("client: encode %s request: %w", k.Name, err)
	}
	_, err = c.Do(ctx, http.MethodPost, regPath(reg, k.Path(req)), key, body, &res)
	return res, err
}

// Reservations lists the pending reservations (escrows) the token may see.
func (c *Client) Reservations(ctx context.Context, reg string) ([]registry.EscrowView, error) {
	var out struct {
		Reservations []registry.EscrowView `json:"reservations"`
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/reservations"), "", nil, &out)
	return out.Reservations, err
}

// Registries lists the corridor's registries (and its hub), with the
// totals of those the server runs.
func (c *Client) Registries(ctx context.Context) ([]Registry, error) {
	var out struct {
		Registries []Registry `json:"registries"`
	}
	_, err := c.Do(ctx, http.MethodGet, "/api/v1/registries", "", nil, &out)
	return out.Registries, err
}

// Totals returns one registry's totals.
func (c *Client) Totals(ctx context.Context, reg string) (registry.Totals, error) {
	var out registry.Totals
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, ""), "", nil, &out)
	return out, err
}

// Accounts lists the accounts the token may see.
func (c *Client) Accounts(ctx context.Context, reg string) ([]registry.AccountView, error) {
	var out struct {
		Accounts []registry.AccountView `json:"accounts"`
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/accounts"), "", nil, &out)
	return out.Accounts, err
}

// Account returns one account with its balances.
func (c *Client) Account(ctx context.Context, reg string, id int64) (registry.AccountView, error) {
	var out registry.AccountView
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, fmt.Sprintf("/accounts/%d", id)), "", nil, &out)
	return out, err
}

// holdingsPage is how many blocks Holdings asks for at a time.
const holdingsPage = 1000 // the API's largest page (limit 1 to 1000)

// Holdings lists all of an account's held and reserved blocks, page by page.
func (c *Client) Holdings(ctx context.Context, reg string, id int64) ([]registry.BlockView, error) {
	var all []registry.BlockView
	for {
		page, err := c.HoldingsPage(ctx, reg, id, len(all), holdingsPage)
		if err != nil {
			return all, err
		}
		all = append(all, page...)
		if len(page) < holdingsPage {
			return all, nil
		}
	}
}

// HoldingsPage lists limit blocks of an account from offset on.
func (c *Client) HoldingsPage(ctx context.Context, reg string, id int64, offset, limit int) ([]registry.BlockView, error) {
	var out struct {
		Blocks []registry.BlockView `json:"blocks"`
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, fmt.Sprintf("/accounts/%d/holdings?offset=%d&limit=%d", id, offset, limit)), "", nil, &out)
	return out.Blocks, err
}

// Issuances lists a registry's issuances.
func (c *Client) Issuances(ctx context.Context, reg string) ([]registry.IssuanceView, error) {
	var out struct {
		Issuances []registry.IssuanceView `json:"issuances"`
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/issuances"), "", nil, &out)
	return out.Issuances, err
}

// Serial looks up a serial block and its history.
func (c *Client) Serial(ctx context.Context, reg, serial string) (registry.SerialInfo, error) {
	var out registry.SerialInfo
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/serials/"+url.PathEscape(serial)), "", nil, &out)
	return out, err
}

// Transactions lists journal entries after seq (kind optional).
func (c *Client) Transactions(ctx context.Context, reg string, after int64, kind string, limit int) ([]registry.Transaction, error) {
	var out struct {
		Transactions []registry.Transaction `json:"transactions"`
	}
	q := url.Values{"after": {fmt.Sprint(after)}, "limit": {fmt.Sprint(limit)}}
	if kind != "" {
		q.Set("kind", kind)
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, "/transactions?"+q.Encode()), "", nil, &out)
	return out.Transactions, err
}

// Retirements lists public retirement records after seq.
func (c *Client) Retirements(ctx context.Context, reg string, after int64, limit int) ([]registry.Retirement, error) {
	var out struct {
		Retirements []registry.Retirement `json:"retirements"`
	}
	_, err := c.Do(ctx, http.MethodGet, regPath(reg, fmt.Sprintf("/retirements?after=%d&limit=%d", after, limit)), "", nil, &out)
	return out.Retirements, err
}
