package testutil

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHTTPGet(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout "+r.URL.Path)
	}))
	defer srv.Close()
	code, body := HTTPGet(t, srv.URL+"/pot")
	if code != http.StatusTeapot || body != "short and stout /pot" {
		t.Fatalf("got %d %q", code, body)
	}
}
