package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/store"
)

// graphTest is a Graph client of a loopback server that answers each
// request with the next of answers, at a fixed instant, recording waits.
type graphTest struct {
	*Graph
	waits []time.Duration
}

// graphAnswer is an answer as Graph writes it: JSON error body, request-id.
type graphAnswer struct {
	status     int
	retryAfter string
	code, msg  string
}

func newGraphTest(t *testing.T, now time.Time, answers ...graphAnswer) *graphTest {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := graphAnswer{status: http.StatusOK}
		if n < len(answers) {
			a = answers[n]
		}
		n++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "b1a2c3d4-0000-4000-8000-000000000001")
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.status)
		if a.status == http.StatusOK {
			fmt.Fprint(w, `{"id":"AAMkAGI2"}`)
			return
		}
		fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-10-21T07:27:30","request-id":"b1a2c3d4-0000-4000-8000-000000000001","client-request-id":"b1a2c3d4-0000-4000-8000-000000000001"}}}`, a.code, a.msg)
	}))
	t.Cleanup(srv.Close)
	gt := &graphTest{}
	gt.Graph = &Graph{Host: srv.URL, HTTP: srv.Client(),
		Token: func(context.Context) (store.Secret, error) { return testToken, nil },
		Now:   func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { gt.waits = append(gt.waits, d); return nil }}
	return gt
}

func (gt *graphTest) get() error {
	return gt.Do(context.Background(), http.MethodGet, "/users/anna.devries@contoso.com/mailFolders/inbox?$select=id", nil, nil)
}

// TestGraphRetryAfter: Retry-After as seconds with a fraction (as Graph
// documents it) and as an HTTP date, counted from the client's clock.
func TestGraphRetryAfter(t *testing.T) {
	now := time.Date(2026, 10, 21, 7, 27, 30, 0, time.UTC)
	tests := []struct {
		header string
		status int
		want   time.Duration
	}{
		{"2.128", http.StatusTooManyRequests, 2128 * time.Millisecond},
		{"7", http.StatusTooManyRequests, 7 * time.Second},
		{"Wed, 21 Oct 2026 07:28:00 GMT", http.StatusServiceUnavailable, 30 * time.Second},
	}
	for _, tt := range tests {
		gt := newGraphTest(t, now, graphAnswer{status: tt.status, retryAfter: tt.header, code: "TooManyRequests", msg: "Too many requests."})
		if err := gt.get(); err != nil || !slices.Equal(gt.waits, []time.Duration{tt.want}) {
			t.Errorf("Retry-After %q: err %v, waits %v, want %v", tt.header, err, gt.waits, tt.want)
		}
	}
}

// TestGraphForbiddenAndNotFound: a 403 or 404 is told by its code and
// message: an access policy is not a missing consent, and a mailbox Graph
// cannot serve is not a wrong UPN.
func TestGraphForbiddenAndNotFound(t *testing.T) {
	tests := []struct {
		status    int
		code, msg string
		kind      error
		notKinds  []error
		fix       string
	}{
		{403, "ErrorAccessDenied", "Access to OData is disabled.", ErrAccessPolicy, []error{ErrForbidden}, "Test-ApplicationAccessPolicy"},
		{403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.", ErrForbidden, []error{ErrAccessPolicy}, "Grant admin consent"},
		{403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", ErrForbidden, []error{ErrAccessPolicy}, "Grant admin consent"},
		{404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.", ErrNoMailbox, []error{ErrNotFound}, "on-premises"},
		{404, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.", ErrNoMailbox, []error{ErrNotFound}, "soft-deleted"},
		{404, "ResourceNotFound", "REST API is not yet supported for this mailbox.", ErrNoMailbox, []error{ErrNotFound}, "on-premises"},
		{404, "Request_ResourceNotFound", "Resource 'anna.devries@contoso.com' does not exist or one of its queried reference-property objects are not present.", ErrNotFound, []error{ErrNoMailbox}, "UPN"},
	}
	for _, tt := range tests {
		gt := newGraphTest(t, time.Time{}, graphAnswer{status: tt.status, code: tt.code, msg: tt.msg})
		err := gt.get()
		var ge *GraphError
		if !errors.As(err, &ge) || !errors.Is(err, tt.kind) || !strings.Contains(ge.Fix(), tt.fix) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%d %s %q: %v, want %v with a fix naming %q", tt.status, tt.code, tt.msg, err, tt.kind, tt.fix)
			continue
		}
		for _, k := range tt.notKinds {
			if errors.Is(err, k) {
				t.Errorf("%d %s %q: is %v too", tt.status, tt.code, tt.msg, k)
			}
		}
	}
}

// Reading a Graph answer reuses a buffer: a call that decodes little of
// a 256 kB answer allocates far less than the answer (it allocated twice
// its size while a new slice grew to fit it).
func TestGraphAnswerReadIntoReusedBuffer(t *testing.T) {
	if raceDetector {
		t.Skip("under -race sync.Pool drops buffers on purpose: .ci/run measures this without it")
	}
	answer := []byte(`{"value":[` + strings.Repeat(`{"id":"AAMkAGI2THVjAAA=","subject":"weekly review"},`, 256<<10/52) + `{}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	g := &Graph{Host: srv.URL, HTTP: srv.Client(), Token: func(context.Context) (store.Secret, error) { return testToken, nil }}
	get := func() {
		var page struct{}
		if err := g.Do(context.Background(), http.MethodGet, "/users/anna.devries@contoso.com/contacts/delta", nil, &page); err != nil {
			t.Fatal(err)
		}
	}
	get() // the connection, and the buffer
	// A collection empties sync.Pool (after one more, its victim cache
	// too): with none during the calls, what is measured is the reuse.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const calls = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		get()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per > uint64(len(answer))/4 {
		t.Errorf("a call allocated %d bytes for an answer of %d", per, len(answer))
	}
}
