package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corridor-carbon/corridor/internal/client"
	"github.com/corridor-carbon/corridor/internal/host"
)

// exitCodesHelp is appended to the long help of every API command.
const exitCodesHelp = `

Exit codes: 0 ok, 1 internal error, 2 usage error or input the server found
malformed (HTTP 400/413/415), 3 the server rejected the request (HTTP
401/403 permission, 404 unknown registry or resource, 409/422 the rules; its
problem code, detail and field are printed), 4 the server cannot be reached
or is unavailable (HTTP 503, e.g. the corridor's hub down: retry later).
TLS: an https --server is verified against --tls-ca (the system roots when empty);
--tls-cert/--tls-key present a client certificate to a server that requires one.
Environment: CORRIDOR_SERVER, CORRIDOR_TOKEN, CORRIDOR_REGISTRY, CORRIDOR_TLS_CA,
CORRIDOR_TLS_CLIENT_CERT, CORRIDOR_TLS_CLIENT_KEY.`

// apiFlags are the connection and output flags of the API commands.
type apiFlags struct {
	server   string
	token    string
	registry string
	key      string
	json     bool
	// tls is the outgoing TLS of every API command: the CA the server's
	// certificate must chain to and the client certificate it may require.
	tls        host.TLSOptions
	httpClient *http.Client

	tokenFlag *pflag.Flag
}

// add registers the connection and output flags, as persistent flags for
// command groups (account, org, token) so that their subcommands share them.
func (f *apiFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", envDefault("CORRIDOR_SERVER", "http://127.0.0.1:8080"), "base URL of the Corridor server (env CORRIDOR_SERVER)")
	// The token's environment value is read when the command runs, not
	// used as the flag's default, so that --help never prints a secret.
	fs.StringVar(&f.token, "token", "", "API token (env CORRIDOR_TOKEN); 'corridor serve' writes demo tokens to <data-dir>/demo-tokens.json")
	f.tokenFlag = fs.Lookup("token")
	fs.StringVar(&f.registry, "registry", envDefault("CORRIDOR_REGISTRY", "CN"), "registry code on the server (env CORRIDOR_REGISTRY)")
	fs.BoolVar(&f.json, "json", false, "print the API's JSON instead of readable text")
	f.addTLS(fs)
}

// addTLS registers --tls-ca, --tls-cert and --tls-key, the outgoing TLS
// of every API command.
func (f *apiFlags) addTLS(fs *pflag.FlagSet) {
	// The environment names are serve's outgoing ones (serve's --tls-cert
	// is its server certificate, CORRIDOR_TLS_CERT), so one environment
	// serves a node process and the CLI beside it.
	f.tls.CA = envDefault("CORRIDOR_TLS_CA", "")
	fs.Var(&tlsCAFlag{f: f}, "tls-ca", "verify an https server against this PEM CA instead of the system roots (env CORRIDOR_TLS_CA)")
	fs.StringVar(&f.tls.ClientCert, "tls-cert", envDefault("CORRIDOR_TLS_CLIENT_CERT", ""), "present this PEM client certificate to a server that requires one (env CORRIDOR_TLS_CLIENT_CERT)")
	fs.StringVar(&f.tls.ClientKey, "tls-key", envDefault("CORRIDOR_TLS_CLIENT_KEY", ""), "the PEM private key of --tls-cert (env CORRIDOR_TLS_CLIENT_KEY)")
}

// addKey registers --idempotency-key on a write command.
func (f *apiFlags) addKey(fs *pflag.FlagSet) {
	fs.StringVar(&f.key, "idempotency-key", "", "idempotency key of the request (default: a fresh random key, printed to stderr so that the exact request can be retried safely)")
}

func (f *apiFlags) client() *client.Client {
	token := f.token
	if f.tokenFlag != nil && !f.tokenFlag.Changed {
		token = envDefault("CORRIDOR_TOKEN", "")
	}
	c := client.New(f.server, token)
	if f.httpClient == nil {
		// A command run without withUsageExit's check: the same
		// client, the flags' error left to the request.
		if err := f.connect(nil); err != nil {
			f.httpClient = &http.Client{Transport: failingTransport{err}}
		}
	}
	c.HTTP = f.httpClient
	return c
}

// failingTransport answers every request with err.
type failingTransport struct{ err error }

func (t failingTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, t.err }

// tlsCAFlag is --tls-ca of the API commands. It is a flag type of its own
// so that withUsageExit finds the command's apiFlags from its flag set
// and checks the TLS files before the command runs.
type tlsCAFlag struct{ f *apiFlags }

func (v *tlsCAFlag) String() string     { return v.f.tls.CA }
func (v *tlsCAFlag) Set(s string) error { v.f.tls.CA = s; return nil }
func (v *tlsCAFlag) Type() string       { return "string" }

// connectAPI runs the TLS check of c's API flags, if it has them.
func connectAPI(c *cobra.Command) error {
	fl := c.Flags().Lookup("tls-ca")
	if fl == nil {
		return nil
	}
	if v, ok := fl.Value.(*tlsCAFlag); ok {
		return v.f.connect(c)
	}
	return nil
}

// connect checks the TLS flags and builds the HTTP client every API
// command uses; it runs before a command, so a wrong CA or key file is a
// usage error (exit 2) and nothing is sent.
func (f *apiFlags) connect(cmd *cobra.Command) error {
	if f.tls == (host.TLSOptions{}) {
		f.httpClient = http.DefaultClient
		return nil
	}
	cfg, err := f.tls.ClientConfig()
	if err != nil {
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "host: "), "--tls-client-", "--tls-")
		if cmd == nil {
			return errors.New(msg)
		}
		return usageError(cmd, "%s", msg)
	}
	f.httpClient = client.NewHTTP(cfg)
	return nil
}

// idempotencyKey returns --idempotency-key, or a fresh key that it prints
// to stderr: rerunning with it returns the first result instead of moving
// units twice, whatever happened to the first answer.
func (f *apiFlags) idempotencyKey(cmd *cobra.Command) string {
	if f.key != "" {
		return f.key
	}
	raw := make([]byte, 12)
	_, _ = rand.Read(raw)
	key := "cli-" + hex.EncodeToString(raw)
	fmt.Fprintf(cmd.ErrOrStderr(), "idempotency key: %s (to retry this exact request safely, rerun with --idempotency-key %s)\n", key, key)
	return key
}

// problemExit is the one mapping of a server problem's HTTP status to an
// exit code: malformed input (400, too large 413, wrong media type 415) is
// 2, as a usage error is; everything else the server refused (401/403
// permission, 404 an unknown registry, account or transfer, 409/422 the
// rules) is 3; 503 (the server or the corridor's hub unavailable: nothing
// was refused, retry later) is 4, as no answer is.
func problemExit(status int) int {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return exitUsage
	case http.StatusServiceUnavailable:
		return exitUnreachable
	}
	return exitRejected
}

// apiError turns a client error into an exit code (problemExit) with the problem's
// code, detail and field when the server answered, 4 when it did not.
func (f *apiFlags) apiError(what string, err error) error {
	if err == nil {
		return nil
	}
	var p *client.Problem
	if errors.As(err, &p) {
		msg := fmt.Sprintf("%s: rejected by the server (HTTP %d): %s", what, p.Status, p.Code)
		if p.Status == http.StatusServiceUnavailable {
			msg = fmt.Sprintf("%s: the server is unavailable now, retry later (HTTP %d): %s", what, p.Status, p.Code)
		}
		if p.Title != "" && p.Title != "Request rejected" && p.Title != http.StatusText(p.Status) {
			msg += " (" + p.Title + ")"
		}
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		if p.Field != "" {
			msg += " [field " + p.Field + "]"
		}
		return &exitError{code: problemExit(p.Status), err: errors.New(msg)}
	}
	var ue *url.Error
	if errors.As(err, &ue) && !errors.Is(err, context.Canceled) {
		return &exitError{code: exitUnreachable, err: fmt.Errorf("%s: cannot reach the server at %s (%s): %w", what, f.server, tlsHint(ue.Err), ue.Err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// tlsHint names the flag that fixes a failed connection: the CA for a
// certificate the client cannot verify, the client certificate for a
// server that requires one, the URL otherwise.
func tlsHint(err error) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return "its certificate is not signed by a CA this client trusts: pass the corridor's CA as --tls-ca or CORRIDOR_TLS_CA"
	case errors.As(err, &host):
		return "its certificate is not for this host name: check --server"
	case errors.As(err, &invalid):
		return "its certificate is not valid: " + invalid.Error()
	// The server's alert reaches the client as text only (crypto/tls's
	// alert type is unexported).
	case strings.Contains(err.Error(), "remote error: tls: certificate required"), strings.Contains(err.Error(), "remote error: tls: bad certificate"),
		strings.Contains(err.Error(), "remote error: tls: unknown certificate authority"):
		return "it requires a client certificate it accepts: pass --tls-cert and --tls-key (env CORRIDOR_TLS_CLIENT_CERT, CORRIDOR_TLS_CLIENT_KEY)"
	}
	return "set --server or CORRIDOR_SERVER"
}

// usageError is a bad flag or argument: exit 2, nothing sent.
func usageError(cmd *cobra.Command, format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("%s: %s (see %s --help)", commandName(cmd), fmt.Sprintf(format, args...), cmd.CommandPath())}
}

// commandName is the command's path without the program name, which main
// already prints.
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// withUsageExit makes cobra's own input errors (unknown flags, bad flag
// values, wrong argument counts, missing required flags) exit with code 2,
// for cmd and its subcommands. A command that declares no Args takes no
// positional argument, and a group command given an unknown subcommand
// exits 2 too: without that, cobra runs a parent's RunE with the unknown
// word as an argument (or prints its help and exits 0). Applying it twice
// changes nothing.
func withUsageExit(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations[usageExitDone] != "" {
		return cmd
	}
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[usageExitDone] = "yes"
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w (see %s --help)", commandName(c), plainFlagError(c, err), c.CommandPath())}
	})
	if cmd.HasSubCommands() && cmd.RunE == nil && cmd.Run == nil {
		cmd.RunE = func(c *cobra.Command, a []string) error { return c.Help() }
	}
	args := cmd.Args
	if args == nil {
		args = noPositionalArgs
	}
	cmd.Args = func(c *cobra.Command, a []string) error {
		if err := args(c, a); err != nil {
			return usageError(c, "%v", err)
		}
		return nil
	}
	if cmd.RunE != nil && cmd.PreRunE == nil {
		// cobra checks required flags after PreRunE, so checking here
		// decides the exit code.
		cmd.PreRunE = func(c *cobra.Command, a []string) error {
			var missing []string
			c.Flags().VisitAll(func(fl *pflag.Flag) {
				if req := fl.Annotations[cobra.BashCompOneRequiredFlag]; len(req) > 0 && req[0] == "true" && !fl.Changed {
					missing = append(missing, "--"+fl.Name)
				}
			})
			if len(missing) > 0 {
				return usageError(c, "missing required flag(s) %s", strings.Join(missing, ", "))
			}
			return connectAPI(c)
		}
	}
	for _, sub := range cmd.Commands() {
		withUsageExit(sub)
	}
	return cmd
}

// usageExitDone marks a command withUsageExit has already wrapped.
const usageExitDone = "corridor/usage-exit"

// noPositionalArgs refuses every positional argument: the first one names
// an unknown subcommand of a group command, or is simply extra.
func noPositionalArgs(c *cobra.Command, a []string) error {
	if len(a) == 0 {
		return nil
	}
	if !c.HasSubCommands() {
		return fmt.Errorf("takes no arguments, got %q", a[0])
	}
	msg := fmt.Sprintf("unknown subcommand %q", a[0])
	if s := c.SuggestionsFor(a[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return errors.New(msg)
}

// helpTopicArgs refuses `corridor help` of a command that does not exist
// (cobra prints "Unknown help topic" and exits 0).
func helpTopicArgs(c *cobra.Command, a []string) error {
	if len(a) == 0 {
		return nil
	}
	if _, rest, err := c.Root().Find(a); err != nil || len(rest) > 0 {
		return fmt.Errorf("unknown help topic %q", strings.Join(a, " "))
	}
	return nil
}

func required(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.MarkFlagRequired(n)
	}
}

// parseID reads a positive integer id argument.
func parseID(cmd *cobra.Command, what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError(cmd, "%s %q must be a positive integer", what, s)
	}
	return id, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// optID is an id cell that may be absent (0), printed as "-".
type optID int64

// table prints aligned columns; the header names them.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(anySlice(header)...)
	return t
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		switch v := c.(type) {
		case optID:
			if v == 0 {
				fmt.Fprint(t.tw, "-")
			} else {
				fmt.Fprint(t.tw, int64(v))
			}
		case string:
			if v == "" {
				v = "-"
			}
			fmt.Fprint(t.tw, strings.NewReplacer("\t", " ", "\n", " ").Replace(v))
		default:
			fmt.Fprint(t.tw, v)
		}
	}
	fmt.Fprintln(t.tw)
}

func (t *table) flush() error { return t.tw.Flush() }
