package m365sim

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// maxSignInPage is the beta sign-in log's default and largest $top.
const maxSignInPage = 1000

// signInJSON is the beta signIn resource, the part the simulator fills.
type signInJSON struct {
	ID                              string       `json:"id"`
	CreatedDateTime                 string       `json:"createdDateTime"`
	AppID                           string       `json:"appId"`
	AppDisplayName                  string       `json:"appDisplayName"`
	UserID                          string       `json:"userId"`
	UserPrincipalName               string       `json:"userPrincipalName"`
	SignInEventTypes                []string     `json:"signInEventTypes"`
	IsInteractive                   bool         `json:"isInteractive"`
	Status                          signInStatus `json:"status"`
	ResourceID                      string       `json:"resourceId"`
	ClientCredentialType            string       `json:"clientCredentialType"`
	ServicePrincipalCredentialKeyID string       `json:"servicePrincipalCredentialKeyId"`
	ServicePrincipalID              string       `json:"servicePrincipalId"`
	CorrelationID                   string       `json:"correlationId"`
}

type signInStatus struct {
	ErrorCode     int    `json:"errorCode"`
	FailureReason string `json:"failureReason"`
}

func (ev *SignIn) json() signInJSON {
	return signInJSON{
		ID: ev.ID, CreatedDateTime: ev.Created.UTC().Format(time.RFC3339),
		AppID: ev.AppID, AppDisplayName: ev.AppName, UserID: ev.UserID, UserPrincipalName: ev.UPN,
		SignInEventTypes: []string{ev.EventType}, IsInteractive: ev.EventType == InteractiveUser,
		Status:     signInStatus{ErrorCode: ev.ErrorCode, FailureReason: ev.FailureReason},
		ResourceID: ev.ResourceID, ClientCredentialType: ev.ClientCredentialType,
		ServicePrincipalCredentialKeyID: ev.CredentialKeyID, ServicePrincipalID: ev.ServicePrincipalID,
		CorrelationID: ev.CorrelationID,
	}
}

// listSignIns is GET /beta/auditLogs/signIns: newest first, $top per page.
// The $skiptoken holds the log's length when the first page was read, so
// sign-ins made while a reader pages do not shift the later pages.
func (s *Sim) listSignIns(g *graphReq) (int, any, *graphError) {
	q := g.r.URL.Query()
	f, e := parseSignInFilter(q.Get("$filter"))
	if e != nil {
		return 0, nil, e
	}
	top, err := strconv.Atoi(q.Get("$top"))
	switch {
	case q.Get("$top") == "":
		top = maxSignInPage
	case err != nil || top < 1:
		return 0, nil, errBadRequest("Invalid value '%s' for query parameter $top.", q.Get("$top"))
	}
	top = min(top, maxSignInPage)
	upTo, offset := s.signInSeq, 0
	if tok := q.Get("$skiptoken"); tok != "" {
		if upTo, offset, err = parseSkipToken(tok); err != nil {
			return 0, nil, gerr(http.StatusBadRequest, "BadRequest", "The $skiptoken '%s' is not valid.", tok)
		}
	}
	var hits []signInJSON
	for i := len(s.signIns) - 1; i >= 0; i-- {
		rec := &s.signIns[i]
		if rec.seq > upTo || rec.tenant != g.t || !f.keep(&rec.SignIn) {
			continue
		}
		hits = append(hits, rec.json())
		if s.dupSignIns {
			hits = append(hits, rec.json())
		}
	}
	// RFC 3339 UTC stamps sort as text.
	slices.SortStableFunc(hits, func(a, b signInJSON) int { return cmp.Compare(b.CreatedDateTime, a.CreatedDateTime) })
	page := hits[min(offset, len(hits)):min(offset+top, len(hits))]
	body := s.betaCollection("auditLogs/signIns", append([]signInJSON{}, page...))
	if offset+top < len(hits) {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("$skiptoken", skipToken(upTo, offset+top))
		body["@odata.nextLink"] = s.URL + g.r.URL.Path + "?" + next.Encode()
	}
	return http.StatusOK, body, nil
}

func skipToken(upTo int64, offset int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%d", upTo, offset))
}

func parseSkipToken(tok string) (upTo int64, offset int, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		_, err = fmt.Sscanf(string(raw), "%d:%d", &upTo, &offset)
	}
	if err == nil && (upTo < 0 || offset < 0) {
		err = fmt.Errorf("negative")
	}
	return upTo, offset, err
}
