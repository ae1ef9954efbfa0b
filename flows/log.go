package flows

import (
	"log/slog"
	"net/http"
	"time"
)

// logTransport marks each request as modauth's (client-request-id) and
// logs it at debug level: method, host and path, status and time. Never
// the query, headers or bodies: they carry codes, secrets and tokens.
type logTransport struct {
	next http.RoundTripper
	log  *slog.Logger
}

func (t *logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	r = r.Clone(r.Context())
	r.Header.Set("client-request-id", newRequestID())
	start := time.Now()
	resp, err := next.RoundTrip(r)
	attrs := []any{"method", r.Method, "host", r.URL.Host, "path", r.URL.Path, "duration", time.Since(start).Round(time.Millisecond)}
	if err != nil {
		t.log.Debug("http request failed", append(attrs, "err", err)...)
		return nil, err
	}
	t.log.Debug("http request", append(attrs, "status", resp.StatusCode)...)
	return resp, nil
}
