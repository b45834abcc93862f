package client

import (
	"crypto/tls"
	"net/http"
)

// NewHTTP returns an HTTP client whose TLS is cfg (the CA the server must
// chain to, the client certificate to present), on a copy of the default
// transport so that proxies and timeouts stay as they are.
func NewHTTP(cfg *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr}
}
