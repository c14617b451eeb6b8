package helloworld

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// The content types of the original Flask app, which splitproof matches so a
// test that checks headers sees what the documented example shows.
const (
	contentTypeHTML = "text/html; charset=utf-8"
	contentTypeJSON = "application/json"
)

// HealthBody is what GET /health answers.
const HealthBody = `{"status": "healthy"}`

// HelloBody is what GET /hello answers for version and instance.
func HelloBody(version, instance string) string {
	return fmt.Sprintf("Hello version: %s, instance: %s\n", version, instance)
}

// Handler serves GET /hello and GET /health (HEAD too, as the probe's
// `curl -I` may send). Other paths are 404, other methods 405.
func Handler(version, instance string) http.Handler {
	hello := HelloBody(version, instance)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) {
		write(w, contentTypeHTML, hello)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		write(w, contentTypeJSON, HealthBody)
	})
	return mux
}

func write(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body)) // the client hung up; nothing to tell it
}

// Serve answers Handler(version, instance) on ln, in a goroutine, until the
// returned server is shut down or closed; that is also when Serve's error
// (http.ErrServerClosed) comes, so it is not reported.
func Serve(ln net.Listener, version, instance string) *http.Server {
	// A bounded header read: a client that never finishes its request
	// must not hold a connection forever.
	srv := &http.Server{Handler: Handler(version, instance), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv
}
