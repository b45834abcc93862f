// Package hubhttp carries the hub protocol over HTTPS: a hub.Transport
// that POSTs sealed envelopes to the receiver's endpoint from the trust
// list, the handler that feeds a hub.Receiver, the hub's signed trust list
// and its transfer reads, and the hub.Link of a node in a networked
// corridor.
package hubhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corridor-carbon/corridor/internal/hub/envelope"
	"github.com/corridor-carbon/corridor/internal/problem"
)

// ContentType is the media type of a JWS compact serialisation (RFC 7515
// section 9.2.1): the envelope and the signed trust list travel as it.
const ContentType = "application/jose"

// MaxEnvelopeBytes bounds a message body. A v1 proposal of a few hundred
// blocks is well under it; anything larger is refused before it is read.
const MaxEnvelopeBytes = 1 << 20

// Paths of the hub protocol's HTTP surface, relative to an endpoint URL.
const (
	PathMessages     = "hub/v1/messages"
	PathTrust        = "hub/v1/trust"
	PathTransfers    = "hub/v1/transfers"
	PathParticipants = "hub/v1/participants"
	PathOrigins      = "hub/v1/origins"
)

// Client makes the protocol's HTTP calls.
type Client struct {
	HTTP *http.Client
}

// NewClient returns a client with the given TLS configuration (nil: the
// system roots, no client certificate) and a per-request timeout.
func NewClient(tlsConfig *tls.Config, timeout time.Duration) *Client {
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 8
	return &Client{HTTP: &http.Client{Transport: mismatchTransport{tr}, Timeout: timeout,
		// A redirect would move a signed message to a URL the trust list
		// does not name: refuse to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Join appends a protocol path to an endpoint URL from the trust list.
func Join(endpoint, path string, elem ...string) (string, error) {
	u, err := url.JoinPath(endpoint, append([]string{path}, elem...)...)
	if err != nil {
		return "", fmt.Errorf("hubhttp: endpoint %q: %w", endpoint, err)
	}
	return u, nil
}

// Post delivers one sealed envelope to url. nil means the receiver took it
// (or already had it); a *envelope.Refusal means it refused it with that
// code and re-sending the same envelope will not help; any other error is
// a failure (network, 5xx) worth retrying.
func (c *Client) Post(ctx context.Context, url, compact string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(compact))
	if err != nil {
		return fmt.Errorf("hubhttp: request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", ContentType)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("hubhttp: posting to %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil
	}
	return answerError(url, resp)
}

// Problem is the RFC 9457 body of a refusal; Code is the refusal code.
type Problem = problem.Problem

// answerError turns a non-success answer into an error: a 4xx problem with
// a code is a refusal, everything else a failure.
func answerError(url string, resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p Problem
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && mt == "application/problem+json" && json.Unmarshal(raw, &p) == nil && p.Code != "" {
		return &envelope.Refusal{Code: envelope.Code(p.Code), Detail: p.Detail}
	}
	body := string(bytes.TrimSpace(raw))
	if mt == "text/html" || strings.HasPrefix(strings.ToLower(body), "<!doctype") || strings.HasPrefix(strings.ToLower(body), "<html") {
		// A web page in a log or on a terminal says nothing: not the hub.
		body = "a web page, not a hub answer (is the URL the hub's?)"
	}
	return &StatusError{URL: url, Status: resp.StatusCode, Body: body}
}

// StatusError is an answer that is neither success nor a refusal.
type StatusError struct {
	URL    string
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("hubhttp: %s answered %d: %s", e.URL, e.Status, body)
}

// getJSON reads a JSON document; a 404 is errNotFound.
func (c *Client) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("hubhttp: request to %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("hubhttp: reading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(url, resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("hubhttp: decoding %s: %w", url, err)
	}
	return nil
}

var errNotFound = errors.New("hubhttp: not found")
