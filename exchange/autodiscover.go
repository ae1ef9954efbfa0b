package exchange

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/modauth/modauth/store"
)

// Autodiscover finds the EWS URL of an on-premises mailbox from its
// address, as Outlook does without a domain-joined machine (reference
// §9.7): POX requests to https://{domain}/autodiscover/autodiscover.xml,
// then https://autodiscover.{domain}/…, following redirectAddr and
// redirectUrl. Credentials go only to HTTPS addresses, or to URLs given
// explicitly.
type Autodiscover struct {
	HTTP *http.Client
	// The service account and how its password goes, as for EWS.
	Username string
	Password store.Secret
	Auth     string
	// URLs are where to ask instead of the addresses the domain gives
	// (the simulator, a known server).
	URLs []string
}

// ErrAutodiscover means no Autodiscover address answered with an EWS URL.
var ErrAutodiscover = errors.New("autodiscover found no ews url")

// ErrRefused means a server refused the service account or its password.
var ErrRefused = errors.New("the service account or its password was refused")

// autodiscoverHops bounds the redirects one lookup follows.
const autodiscoverHops = 10

// EWSURL returns the EWS URL Autodiscover gives for email.
func (a Autodiscover) EWSURL(ctx context.Context, email string) (string, error) {
	var tried []string
	urls := a.URLs
	for range autodiscoverHops {
		if len(urls) == 0 {
			_, domain, ok := strings.Cut(email, "@")
			if !ok || domain == "" {
				return "", fmt.Errorf("autodiscover %q: not an e-mail address", email)
			}
			urls = []string{"https://" + domain + "/autodiscover/autodiscover.xml", "https://autodiscover." + domain + "/autodiscover/autodiscover.xml"}
		}
		res, refused, ok := a.first(ctx, urls, email, &tried)
		switch {
		case !ok && refused:
			return "", fmt.Errorf("%w for %s: %w: %s", ErrAutodiscover, email, ErrRefused, strings.Join(tried, "; "))
		case !ok:
			return "", fmt.Errorf("%w for %s: %s", ErrAutodiscover, email, strings.Join(tried, "; "))
		case res.ewsURL != "":
			return res.ewsURL, nil
		case res.redirectAddr != "":
			email, urls = res.redirectAddr, a.URLs
		case strings.HasPrefix(res.redirectURL, "https://"):
			urls = []string{res.redirectURL}
		default:
			tried = append(tried, "a redirect to "+res.redirectURL+" was not followed: credentials go only to https")
			return "", fmt.Errorf("%w for %s: %s", ErrAutodiscover, email, strings.Join(tried, "; "))
		}
	}
	return "", fmt.Errorf("%w for %s: more than %d redirects", ErrAutodiscover, email, autodiscoverHops)
}

// first asks each address in turn and returns the first answer; what the
// others said goes to tried, and refused says one refused the account.
func (a Autodiscover) first(ctx context.Context, urls []string, email string, tried *[]string) (res autodiscoverResult, refused, ok bool) {
	for _, u := range urls {
		res, err := a.ask(ctx, u, email)
		if err == nil {
			return res, false, true
		}
		refused = refused || errors.Is(err, ErrRefused)
		*tried = append(*tried, err.Error())
	}
	return autodiscoverResult{}, refused, false
}

// autodiscoverResult is what one answer says.
type autodiscoverResult struct{ ewsURL, redirectAddr, redirectURL string }

// autodiscoverAnswer is the POX response, by local names: servers write
// http:// namespaces, Microsoft's pages https:// ones.
type autodiscoverAnswer struct {
	Response struct {
		Error struct {
			ErrorCode string
			Message   string
		}
		Account struct {
			Action       string
			RedirectAddr string
			RedirectUrl  string
			Protocol     []struct {
				Type   string
				ASUrl  string
				EwsUrl string
			}
		}
	}
}

func (a Autodiscover) ask(ctx context.Context, u, email string) (autodiscoverResult, error) {
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>`)
	_ = xml.EscapeText(&body, []byte(email))
	body.WriteString(`</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return autodiscoverResult{}, fmt.Errorf("%s: %w", u, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	creds := a.Username != "" && (strings.HasPrefix(u, "https://") || len(a.URLs) > 0)
	if creds {
		req.SetBasicAuth(a.Username, a.Password.Reveal())
	}
	resp, err := passwordClient(a.HTTP, creds && a.Auth != AuthBasic, a.Auth).Do(req)
	if err != nil {
		return autodiscoverResult{}, fmt.Errorf("%s: %w", host(u), err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return autodiscoverResult{}, fmt.Errorf("%s: http 401: %w", host(u), ErrRefused)
	case resp.StatusCode != http.StatusOK:
		return autodiscoverResult{}, fmt.Errorf("%s: http %d", host(u), resp.StatusCode)
	}
	var ans autodiscoverAnswer
	if err := xml.Unmarshal(raw, &ans); err != nil {
		return autodiscoverResult{}, fmt.Errorf("%s: not an autodiscover answer", host(u))
	}
	acc := ans.Response.Account
	switch strings.ToLower(acc.Action) {
	case "redirectaddr":
		return autodiscoverResult{redirectAddr: acc.RedirectAddr}, nil
	case "redirecturl":
		return autodiscoverResult{redirectURL: acc.RedirectUrl}, nil
	}
	for _, p := range acc.Protocol {
		if ews := cmp.Or(p.EwsUrl, p.ASUrl); (p.Type == "EXCH" || p.Type == "EXPR") && ews != "" {
			return autodiscoverResult{ewsURL: ews}, nil
		}
	}
	if e := ans.Response.Error; e.ErrorCode != "" {
		return autodiscoverResult{}, fmt.Errorf("%s: error %s: %s", host(u), e.ErrorCode, strings.TrimSpace(e.Message))
	}
	return autodiscoverResult{}, fmt.Errorf("%s: no ews url in the answer", host(u))
}

// host is a URL without its path and query, for messages.
func host(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Scheme + "://" + p.Host
	}
	return u
}
