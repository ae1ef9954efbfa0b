package exchange

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEWSBlocked: Exchange Online's 403 for EWS is ErrEWSBlocked whatever
// its body says from 1 October 2026, and before it only when the body
// says EWS is off; a token's 403 or 401, an on-premises server and a
// mailbox right are something else. The status stays in the error.
func TestEWSBlocked(t *testing.T) {
	before := time.Date(2026, 9, 30, 23, 59, 0, 0, time.UTC)
	after := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	retired := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		at            time.Time
		online        bool
		status        int
		header, body  string
		blocked, gone bool
	}{
		{"our simulator's guess", after, true, 403, "", "EWS is not allowed for this application in this organization.", true, false},
		{"empty body after 1 October", after, true, 403, "", "", true, false},
		{"iis page after 1 October", after, true, 403, "", "<html><head><title>403 - Forbidden: Access is denied.</title></head></html>", true, false},
		{"json body after 1 October", after, true, 403, "", `{"error":{"code":"Forbidden","message":"Request blocked"}}`, true, false},
		{"says blocked before 1 October", before, true, 403, "", "Access to Exchange Web Services is blocked by the organization's policy.", true, false},
		{"says disabled, upper case", before, true, 403, "", "EWS DISABLED FOR APPLICATION", true, false},
		{"after 1 April 2027", retired, true, 403, "", "", true, true},
		{"empty body before 1 October", before, true, 403, "", "", false, false},
		{"on-premises, says disabled", retired, false, 403, "", "EWS is disabled.", false, false},
		{"token challenge", after, true, 403, `Bearer error="insufficient_scope"`, "EWS is not allowed", false, false},
		{"401 saying disabled", after, true, 401, `Bearer error="invalid_token"`, "EWS is disabled", false, false},
	}
	for _, tt := range tests {
		et := newEWSTest(t, false, func(w http.ResponseWriter, r *http.Request) {
			if tt.header != "" {
				w.Header().Set("WWW-Authenticate", tt.header)
			}
			w.WriteHeader(tt.status)
			fmt.Fprint(w, tt.body)
		})
		et.Online, et.Now = tt.online, func() time.Time { return tt.at }
		err := et.sync()
		var ee *EWSError
		if !errors.As(err, &ee) || ee.Status != tt.status || errors.Is(err, ErrEWSBlocked) != tt.blocked || errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if tt.blocked && (!errors.Is(err, ErrAccessPolicy) || !strings.Contains(err.Error(), "http 403")) {
			t.Errorf("%s: %v is not also an access policy with its status", tt.name, err)
		}
		switch fix := fixOf(err); {
		case tt.gone && (!strings.Contains(fix, "switched off for good") || strings.Contains(fix, "Set-OrganizationConfig")):
			t.Errorf("%s: fix after retirement %q", tt.name, fix)
		case tt.blocked && !tt.gone && (!strings.Contains(fix, "EwsAllowedAppIDs") || !strings.Contains(fix, "1 April 2027")):
			t.Errorf("%s: fix %q", tt.name, fix)
		}
		notNetwork(t, err)
	}
}
