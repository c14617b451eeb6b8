// Package curl owns the replayer's native curl: it parses a curl argument
// list the way curl does (short flags that combine, values attached or
// separate, long flags, URLs without a scheme) and performs the requests with
// an injected *http.Client, writing what curl would write and returning the
// exit code curl would return.
//
// Running curl natively, rather than executing the binary, is what lets a
// documentation snippet reach an in-process target (the client's dialer
// decides where a connection goes) and what lets the replayer record every
// HTTP exchange (status, headers, body, when it was sent and answered, and
// which connection carried it: a transport dialling through [ConnCounter]
// numbers its connections) alongside the snippet's output.
//
// The package is cut by concern: args.go parses the command line into a
// [Command]; request.go builds the http.Request (method, default headers,
// -H edits, the body from -d and friends); transfer.go sends it, applies -m
// and --connect-timeout, follows -L and maps transport errors to curl's exit
// codes; output.go writes stdout, stderr, -o files and -w as curl does;
// runner.go ties them together and owns the clients and the [ConnPolicy];
// conn.go numbers connections.
// Every curl failure, whichever part finds it, is one [*ExitError] carrying
// curl's exit code and message.
//
// # Connections
//
// Real curl is one process per command, so a snippet's loop opens one
// connection per request. [ConnNew] does the same; [ConnReuse] (the default)
// keeps connections alive across the commands of one [Runner], which is
// faster but lets a gateway that picks a backend per connection look like
// one that picks per request. Redirects followed with -L use their
// command's connection under both policies, as in real curl. ConnNew gives
// each command a clone of the client's transport (sharing its dialer, and
// so a [ConnCounter]'s numbering), so it needs an *http.Transport, as -k
// does.
//
// # Flags
//
// Only the flags below ([SupportedFlags]) are understood. Any other flag,
// whether or not real curl knows it, makes [ParseArgs] fail with an
// [*ExitError] of code 2 ([ExitUsage], curl's code for a bad command line)
// wrapping an [*UnsupportedFlagError] that names the flag, so a snippet never
// silently runs with a flag ignored. The replayer treats it as an error of
// the replay and halts the snippet, where real curl would exit 2 and let the
// script go on. Booleans also accept --no-<flag>, and every long flag also
// accepts --flag=value (real curl does not).
//
//	flag                  here                                             differs from curl
//	-i, --include         status line and headers before the body          header order and spelling (below)
//	-I, --head            HEAD request, headers only                       as -i
//	-s, --silent          no error message on stderr                       no progress meter exists to hide
//	-S, --show-error      the error message even with -s                   -
//	-f, --fail            exit 22 on status >= 400; the body is not        -
//	                      output (the head is, with -i or -I)
//	-L, --location        follow up to 50 redirects (exit 47 beyond)       -
//	-k, --insecure        skip TLS verification                            needs an *http.Transport
//	-v, --verbose         request and response headers on stderr           different format (below)
//	-G, --get             data appended to the query of a GET              -
//	-X, --request         the method                                       -
//	-H, --header          add, replace ("Name: v"), drop ("Name:") or      -H @file is a usage error
//	                      send empty ("Name;") a header; Host sets the
//	                      request's host
//	-A, --user-agent      the User-Agent header                            the default is UserAgent
//	-d, --data            body; "@file" read with CR and LF removed,       files only under the runner's
//	                      "@-" from stdin; several joined with '&';        directory
//	                      POST unless -X or -G
//	    --data-ascii      as -d                                            as -d
//	    --data-raw        body as written, '@' included                    -
//	    --data-binary     as -d, file contents kept intact                 as -d
//	    --data-urlencode  name=content, =content, name@file, @file         as -d
//	                      URL-encoded
//	-o, --output          the n-th -o takes the n-th URL's body;           files only under the runner's
//	                      "-" is stdout, /dev/null discards                directory
//	-w, --write-out       after each transfer, failed ones too (000 when   only these variables; as in
//	                      no response came): %{http_code}                  curl, an unknown one prints
//	                      %{response_code} %{time_total}                   nothing and a warning
//	                      %{size_download} %{url_effective}
//	                      %{content_type} %{num_redirects} %{method}
//	                      %{http_version} %{scheme} (upper case, as in
//	                      curl 7.88) %header{name} %%
//	                      and \n \r \t \\
//	-m, --max-time        exit 28 when the whole transfer takes longer     -
//	    --connect-timeout exit 28 when no connection comes in time         -
//	    --url             one more URL                                     -
//
// # Differences from curl
//
// The differential test (diff_test.go) runs every curl command of the
// built-in scenarios and a table of command lines covering each flag with
// this package and with the curl binary against the same loopback server,
// and requires the same exit code, the same stdout and the same -o files.
// What legitimately differs:
//   - response header names are printed in canonical form (Content-Type) and
//     sorted by name, since net/http keeps neither the wire spelling nor the
//     order (the test's server sets every header itself, and net/http
//     writes a handler's headers sorted and canonical);
//   - -X PUT, POST or PATCH without data sends "Content-Length: 0", which
//     net/http always adds for these methods (the test checks this case
//     still differs, so this list stays true);
//   - the default User-Agent is [UserAgent], not curl's version;
//   - URL globbing ({a,b} and [1-3] in URLs) is not performed;
//   - "@file" and -o reach only files under the runner's directory.
//
// Stderr is not compared, because it differs by design: real curl prints a
// progress meter when stdout is not a terminal and -s is not given (the
// native curl never does); -v prints curl's connection and TLS lines ("*
// Trying ...") and the headers in wire order where the native curl prints
// "* Request to URL" and the headers sorted; some error messages differ in
// wording (an unsupported protocol, a certificate problem, a command-line
// error), while the exit code is the same.
package curl
