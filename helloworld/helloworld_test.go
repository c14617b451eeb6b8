package helloworld

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// MustGet sends method to url and returns status, content type and body.
func MustGet(t *testing.T, method, url string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

func TestHandlerOverLoopback(t *testing.T) {
	srv := httptest.NewServer(Handler("v2", "helloworld-v2-6594c54f6b-8dvjp")) // listens on 127.0.0.1:0
	defer srv.Close()
	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string
		wantBody     string
	}{
		{"GET", "/hello", 200, "text/html; charset=utf-8", "Hello version: v2, instance: helloworld-v2-6594c54f6b-8dvjp\n"},
		{"GET", "/health", 200, "application/json", `{"status": "healthy"}`},
		{"HEAD", "/health", 200, "application/json", ""},
		{"GET", "/", 404, "", ""},
		{"POST", "/hello", 405, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, ctype, body := MustGet(t, tc.method, srv.URL+tc.path)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d", status, tc.wantStatus)
			}
			if tc.wantType != "" && ctype != tc.wantType {
				t.Errorf("content type %q, want %q", ctype, tc.wantType)
			}
			if tc.wantStatus == 200 && body != tc.wantBody {
				t.Errorf("body %q, want %q", body, tc.wantBody)
			}
		})
	}
}

func TestHelloBodyMatchesDocumentedOutput(t *testing.T) {
	// The documentation shows content-length 60 for this instance name.
	got := HelloBody("v3", "helloworld-v3-55bfdf76cf-nv545")
	if len(got) != 60 || !strings.HasPrefix(got, "Hello version: v3, instance: ") {
		t.Errorf("%q has length %d, want the documented 60", got, len(got))
	}
}
