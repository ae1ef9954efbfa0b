// Package exchange talks to Exchange with a token: Microsoft Graph (users,
// delta sync, app credentials), EWS, and IMAP, POP and SMTP probes.
package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modauth/modauth/store"
)

// TokenFunc returns a valid access token for the API being called.
type TokenFunc func(ctx context.Context) (store.Secret, error)

// Graph is a Microsoft Graph client: v1.0, and beta where only beta has
// what modauth needs (the sign-in log's event types).
type Graph struct {
	Host  string // e.g. https://graph.microsoft.com; the profile's Graph host
	HTTP  *http.Client
	Token TokenFunc
	// Sleep waits before a retry; tests advance a simulated clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries is how often a throttled (429) or unavailable (503) request is
	// sent again after its Retry-After; default 3.
	Retries int
	// Now is the clock a Retry-After date is counted from; default time.Now.
	Now func() time.Time
}

// GraphError is an error answer from Graph.
type GraphError struct {
	Status     int
	Code       string // e.g. Authorization_RequestDenied
	Message    string
	RequestID  string
	RetryAfter time.Duration
	// Need names the permissions the call needs, when the caller knows
	// them: Fix then says which to add on a 403.
	Need string
}

func (e *GraphError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("graph: http %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("graph: %s: %s", e.Code, e.Message)
}

// Is lets callers test for the common cases with errors.Is. A 403 or 404
// is told apart by its code and message: an access policy is not a missing
// consent, and a mailbox Graph cannot serve is not a wrong UPN.
func (e *GraphError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound && !e.noMailbox()
	case ErrNoMailbox:
		return e.noMailbox()
	case ErrForbidden:
		return e.Status == http.StatusForbidden && !e.accessPolicy() && !e.noPremium()
	case ErrNoPremium:
		return e.noPremium()
	case ErrAccessPolicy:
		return e.accessPolicy()
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// accessPolicy: an Application Access Policy (or Set-CASMailbox) keeps the
// app out of the mailbox: ErrorAccessDenied "Access to OData is disabled."
func (e *GraphError) accessPolicy() bool {
	return e.Status == http.StatusForbidden && e.Code == "ErrorAccessDenied" && strings.Contains(e.Message, "Access to OData is disabled")
}

// noPremium: Graph serves sign-in logs and reports only to premium tenants.
func (e *GraphError) noPremium() bool {
	return e.Status == http.StatusForbidden && e.Code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
}

// noMailbox: the user has no mailbox Graph can serve: none, inactive,
// soft-deleted or on-premises.
func (e *GraphError) noMailbox() bool {
	return e.Code == "MailboxNotEnabledForRESTAPI" || (e.Status == http.StatusNotFound &&
		(strings.Contains(e.Message, "REST API is not yet supported for this mailbox") || strings.Contains(e.Message, "is hosted on-premise")))
}

// Fix says what to do about the error.
func (e *GraphError) Fix() string {
	switch {
	case e.accessPolicy():
		return "An Exchange access policy keeps the app out of this mailbox (not a missing consent): check Get-ApplicationAccessPolicy and " +
			"Test-ApplicationAccessPolicy -Identity <mailbox> -AppId <app id>, or the RBAC for Applications scope (Test-ServicePrincipalAuthorization -Identity <app id> -Resource <mailbox>); " +
			"a mailbox with OData turned off needs Set-CASMailbox <mailbox> -ODataEnabled $true."
	case e.noMailbox():
		return "Graph serves no mailbox for this user: the mailbox is on-premises (hybrid: use EWS on the Exchange server), inactive or soft-deleted " +
			"(Get-Mailbox -SoftDeletedMailbox), or the user has no Exchange Online licence."
	case e.Status == http.StatusNotFound:
		return "Graph found no such object: check the user's UPN or object ID."
	case e.noPremium():
		return "Graph serves sign-in logs and reports only to a tenant with a Microsoft Entra ID P1 or P2 licence: " +
			"license the tenant, or read the sign-ins in the Entra admin center (Monitoring > Sign-in logs), which shows them without one."
	case e.Status == http.StatusForbidden && e.Need != "":
		return "The app lacks the Graph permission " + e.Need + " or its consent: in Entra ID > App registrations > the app > API permissions, add it and choose Grant admin consent."
	case e.Status == http.StatusForbidden:
		return "The app lacks a Graph permission or its consent: in Entra ID > App registrations > the app > API permissions, add it and choose Grant admin consent."
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return "Graph is throttling or busy: modauth waits the Retry-After Graph asked for and tries again."
	}
	return "Look the error code up in the Microsoft Graph error reference."
}

var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("insufficient privileges")
	ErrThrottled = errors.New("throttled")
)

type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// Do sends a request to path (below /v1.0; below the host when it starts
// with /beta/; or an absolute URL such as a nextLink) with in as the JSON
// body, and decodes the answer into out.
// Throttled and unavailable requests are retried after their Retry-After.
func (g *Graph) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("graph %s %s: encode: %w", method, path, err)
		}
	}
	retries := g.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		err := g.do(ctx, method, path, body, out)
		var ge *GraphError
		if !errors.As(err, &ge) || attempt >= retries || (ge.Status != http.StatusTooManyRequests && ge.Status != http.StatusServiceUnavailable) {
			return err
		}
		wait := ge.RetryAfter
		if wait <= 0 {
			wait = time.Duration(1<<attempt) * time.Second
		}
		if err := g.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (g *Graph) do(ctx context.Context, method, path string, body []byte, out any) error {
	url := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		version := "/v1.0"
		if strings.HasPrefix(path, "/beta/") {
			version = ""
		}
		url = strings.TrimSuffix(g.Host, "/") + version + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("graph %s %s: %w", method, path, err)
	}
	tok, err := g.Token(ctx)
	if err != nil {
		return fmt.Errorf("graph %s %s: get token: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := g.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("graph %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer putAnswerBuffer(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 32<<20)); err != nil {
		return fmt.Errorf("graph %s %s: read: %w", method, path, err)
	}
	// Everything below copies what it keeps out of data: the buffer goes
	// back to the pool on return.
	data := buf.Bytes()
	if resp.StatusCode/100 != 2 {
		return parseGraphError(resp, data, g.now())
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("graph %s %s: decode: %w", method, path, err)
	}
	return nil
}

// answerBuffers hold Graph's answers while they are decoded: a sweep reads
// a delta page per folder per user, and reading each into a new slice,
// grown by doubling, cost an engine a tenth of its CPU time in allocation
// and clearing.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putAnswerBuffer returns buf to the pool, unless a rare big answer made it
// bigger than answers usually are.
func putAnswerBuffer(buf *bytes.Buffer) {
	if buf.Cap() > 4<<20 {
		return
	}
	buf.Reset()
	answerBuffers.Put(buf)
}

func parseGraphError(resp *http.Response, data []byte, now time.Time) *GraphError {
	e := &GraphError{Status: resp.StatusCode}
	var b graphErrorBody
	if json.Unmarshal(data, &b) == nil && b.Error.Code != "" {
		e.Code, e.Message, e.RequestID = b.Error.Code, b.Error.Message, b.Error.InnerError.RequestID
	} else {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// retryAfter reads a Retry-After header: seconds, which Graph writes with
// a fraction ("2.128"), or an HTTP date, counted from now.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs > 0 && secs < 24*60*60 { // NaN and absurd values wait nothing
			return time.Duration(secs * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

func (g *Graph) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Graph) sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, g.Sleep, d) }

// List follows @odata.nextLink and returns every item of a collection.
func List[T any](ctx context.Context, g *Graph, path string) ([]T, error) {
	var all []T
	for path != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := g.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		path = page.NextLink
	}
	return all, nil
}
