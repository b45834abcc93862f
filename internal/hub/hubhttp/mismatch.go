package hubhttp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrProtocolMismatch: the URL's scheme is not the protocol the server
// speaks (http:// to an HTTPS server, or https:// to a plain HTTP one).
// Retrying will not help; the URL or the server's TLS flags must change.
var ErrProtocolMismatch = errors.New("hubhttp: the URL's scheme does not match the server's protocol")

// mismatchTransport turns both kinds of protocol mismatch into errors
// wrapping ErrProtocolMismatch, whatever the call.
type mismatchTransport struct{ next http.RoundTripper }

// Texts by which each side tells of a mismatch: the transport returns a
// TLS record header error that starts "HTTP/" (http.Client makes it
// ErrSchemeMismatch, whose text this is); an HTTPS server answers a plain
// request with a 400 whose body says so (Go's, nginx's).
const (
	goHTTPToHTTPS    = "server gave HTTP response to HTTPS client"
	goPlainToTLS     = "Client sent an HTTP request to an HTTPS server"
	nginxPlainToTLS  = "The plain HTTP request was sent to HTTPS port"
	mismatchPeekSize = 512
)

// ProtocolMismatchError is a protocol mismatch with the server at Origin;
// ServerTLS tells which side speaks TLS. It is ErrProtocolMismatch.
type ProtocolMismatchError struct {
	Origin    string
	ServerTLS bool
}

func (e *ProtocolMismatchError) Error() string {
	if e.ServerTLS {
		return fmt.Sprintf("%s speaks HTTPS, not plain HTTP: use https://%s", e.Origin, strings.TrimPrefix(e.Origin, "http://"))
	}
	return fmt.Sprintf("%s speaks plain HTTP, not HTTPS: use http://%s, or serve it with --tls-cert and --tls-key", e.Origin, strings.TrimPrefix(e.Origin, "https://"))
}

func (e *ProtocolMismatchError) Is(target error) bool { return target == ErrProtocolMismatch }

func (t mismatchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		var rh tls.RecordHeaderError
		if (errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/") || errors.Is(err, http.ErrSchemeMismatch) || strings.Contains(err.Error(), goHTTPToHTTPS) {
			return nil, &ProtocolMismatchError{Origin: origin(req)}
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusBadRequest || req.URL.Scheme != "http" {
		return resp, nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, mismatchPeekSize))
	if bytes.Contains(head, []byte(goPlainToTLS)) || bytes.Contains(head, []byte(nginxPlainToTLS)) {
		resp.Body.Close()
		return nil, &ProtocolMismatchError{Origin: origin(req), ServerTLS: true}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return resp, nil
}

func origin(req *http.Request) string {
	return req.URL.Scheme + "://" + req.URL.Host
}
