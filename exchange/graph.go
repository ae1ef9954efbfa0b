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
	"time"

	"github.com/modauth/modauth/store"
)

// TokenFunc returns a valid access token for the API being called.
type TokenFunc func(ctx context.Context) (store.Secret, error)

// Graph is a Microsoft Graph v1.0 client.
type Graph struct {
	Host  string // e.g. https://graph.microsoft.com; the profile's Graph host
	HTTP  *http.Client
	Token TokenFunc
	// Sleep waits before a retry; tests advance a simulated clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries is how often a throttled (429) or unavailable (503) request is
	// sent again after its Retry-After; default 3.
	Retries int
}

// GraphError is an error answer from Graph.
type GraphError struct {
	Status     int
	Code       string // e.g. Authorization_RequestDenied
	Message    string
	RequestID  string
	RetryAfter time.Duration
}

func (e *GraphError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("graph: http %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("graph: %s: %s", e.Code, e.Message)
}

// Is lets callers test for the common cases with errors.Is.
func (e *GraphError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	}
	return false
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

// Do sends a request to path (below /v1.0, or an absolute URL such as a
// nextLink) with in as the JSON body, and decodes the answer into out.
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
		url = strings.TrimSuffix(g.Host, "/") + "/v1.0" + path
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("graph %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return parseGraphError(resp, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("graph %s %s: decode: %w", method, path, err)
	}
	return nil
}

func parseGraphError(resp *http.Response, data []byte) *GraphError {
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
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
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
