package curl

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes curl uses, for the failures the native curl can produce.
const (
	ExitOK             = 0
	ExitUnsupported    = 1  // unsupported protocol
	ExitUsage          = 2  // bad command line
	ExitBadURL         = 3  // malformed URL
	ExitResolve        = 6  // could not resolve host
	ExitConnect        = 7  // failed to connect
	ExitHTTPError      = 22 // -f and HTTP status >= 400
	ExitWrite          = 23 // could not write output
	ExitRead           = 26 // could not read a data file
	ExitTimeout        = 28 // -m or --connect-timeout expired
	ExitSSLConnect     = 35 // TLS handshake failed
	ExitTooManyRedirs  = 47 // more than 50 redirects with -L
	ExitEmptyReply     = 52 // the server closed without answering
	ExitRecv           = 56 // failure receiving data
	ExitPeerCertFailed = 60 // certificate verification failed
)

// ExitError is a curl failure: the exit code curl would return and the
// message it would print. Every helper of the package reports a curl
// failure as an *ExitError, so that one errors.As tells a failure of the
// replayed command (which becomes an [Outcome]) from a failure of the replay
// itself (any other error).
type ExitError struct {
	Code int
	Err  error
}

// exitf builds an *ExitError whose message is formatted like fmt.Errorf
// (%w included).
func exitf(code int, format string, args ...any) *ExitError {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// Error is the line curl prints on stderr: "curl: (7) Failed to connect…",
// without the number for a command-line error, as curl prints those.
func (e *ExitError) Error() string {
	if e.Code == ExitUsage {
		return "curl: " + e.Message()
	}
	return fmt.Sprintf("curl: (%d) %s", e.Code, e.Message())
}

// Message is curl's message without the "curl: (N)" prefix.
func (e *ExitError) Message() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UnsupportedFlagError is a flag the native curl does not implement (whether
// or not the real curl knows it). ParseArgs returns it inside an *ExitError
// with curl's code for a bad command line, [ExitUsage].
type UnsupportedFlagError struct {
	Flag string
}

func (e *UnsupportedFlagError) Error() string {
	return fmt.Sprintf("option %q is not supported by the replayer's native curl (supported: %s)",
		e.Flag, strings.Join(SupportedFlags(), " "))
}

// UsageError is a malformed curl command line; it travels inside an
// *ExitError with code [ExitUsage], as curl exits 2 on these.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string { return e.Msg }

// usage wraps a command-line problem in the exit error curl would give.
func usage(format string, args ...any) *ExitError {
	return &ExitError{Code: ExitUsage, Err: &UsageError{Msg: fmt.Sprintf(format, args...)}}
}

func unsupported(flag string) *ExitError {
	return &ExitError{Code: ExitUsage, Err: &UnsupportedFlagError{Flag: flag}}
}

// errNoDir is returned when a command needs the filesystem and the caller gave
// no directory to confine it to.
var errNoDir = errors.New("no working directory was given to the replayer (Options.Dir), so curl may not read or write files")
