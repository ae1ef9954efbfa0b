package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The product's own sign-ins, from Graph beta's sign-in log: v1.0 serves
// interactive sign-ins only and lacks the event types and the client
// secret's key ID (microsoft.md §9.1).

// SignInKind selects sign-in event types.
type SignInKind string

const (
	UserSignIns SignInKind = "user"             // interactiveUser or nonInteractiveUser
	AppSignIns  SignInKind = "servicePrincipal" // client credentials
)

// SignInQuery says which sign-ins to read.
type SignInQuery struct {
	AppID    string     // the product's client ID (required)
	Kind     SignInKind // "" reads UserSignIns
	Since    time.Time  // createdDateTime ge Since; zero: everything kept
	UPN      string     // optional
	KeyID    string     // optional: servicePrincipalCredentialKeyId
	PageSize int        // $top; default 1000
}

// SignIn is one entry of the sign-in log.
type SignIn struct {
	ID                              string
	Created                         time.Time
	AppID, UserID, UPN              string
	Interactive                     bool
	EventTypes                      []string
	ErrorCode                       int // AADSTS number; 0 = success
	FailureReason                   string
	CredentialKeyID, CredentialType string // the client secret's keyId; clientSecret, none, ...
	ResourceID                      string
	// CorrelationID is the client-request-id of the token request: modauth
	// marks its own (flows.OwnRequest).
	CorrelationID string
}

// OK reports whether the sign-in succeeded.
func (s SignIn) OK() bool { return s.ErrorCode == 0 }

// ErrNoPremium: Graph refuses the sign-in log and reports to a tenant
// without a premium licence (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant).
var ErrNoPremium = errors.New("the tenant has no Microsoft Entra ID P1 or P2 licence, which Graph requires to read sign-in logs (the portal still shows them)")

// Permissions the sign-in log and the reports need (microsoft.md §9.1).
const (
	signInLogNeeds = "AuditLog.Read.All and Directory.Read.All"
	reportsNeed    = "AuditLog.Read.All"
)

// signInJSON is the part of the beta signIn resource modauth reads.
type signInJSON struct {
	ID                string    `json:"id"`
	CreatedDateTime   time.Time `json:"createdDateTime"`
	AppID             string    `json:"appId"`
	UserID            string    `json:"userId"`
	UserPrincipalName string    `json:"userPrincipalName"`
	SignInEventTypes  []string  `json:"signInEventTypes"`
	IsInteractive     bool      `json:"isInteractive"`
	Status            struct {
		ErrorCode     int    `json:"errorCode"`
		FailureReason string `json:"failureReason"`
	} `json:"status"`
	ResourceID                      string `json:"resourceId"`
	ClientCredentialType            string `json:"clientCredentialType"`
	ServicePrincipalCredentialKeyID string `json:"servicePrincipalCredentialKeyId"`
	CorrelationID                   string `json:"correlationId"`
}

// SignIns reads every page (following @odata.nextLink), dedupes by ID,
// returns newest first. It needs AuditLog.Read.All and Directory.Read.All
// and a premium tenant (errors.Is(err, ErrNoPremium) otherwise).
func (g *Graph) SignIns(ctx context.Context, q SignInQuery) ([]SignIn, error) {
	filter, err := q.filter()
	if err != nil {
		return nil, err
	}
	top := q.PageSize
	if top <= 0 {
		top = 1000
	}
	path := "/beta/auditLogs/signIns?$filter=" + url.QueryEscape(filter) + "&$top=" + strconv.Itoa(top)
	rows, err := List[signInJSON](ctx, g, path)
	if err != nil {
		return nil, fmt.Errorf("read the sign-in log of app %s: %w", q.AppID, needing(err, signInLogNeeds))
	}
	seen := map[string]bool{}
	out := make([]SignIn, 0, len(rows))
	for _, r := range rows {
		if seen[r.ID] { // the service logs some events twice
			continue
		}
		seen[r.ID] = true
		out = append(out, SignIn{
			ID: r.ID, Created: r.CreatedDateTime, AppID: r.AppID, UserID: r.UserID, UPN: r.UserPrincipalName,
			Interactive: r.IsInteractive, EventTypes: r.SignInEventTypes,
			ErrorCode: r.Status.ErrorCode, FailureReason: r.Status.FailureReason,
			CredentialKeyID: r.ServicePrincipalCredentialKeyID, CredentialType: r.ClientCredentialType, ResourceID: r.ResourceID,
			CorrelationID: r.CorrelationID,
		})
	}
	slices.SortStableFunc(out, func(a, b SignIn) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// filter builds the $filter of q.
func (q SignInQuery) filter() (string, error) {
	if q.AppID == "" {
		return "", errors.New("read sign-ins: no app: name the product's client ID")
	}
	clauses := []string{"appId eq " + quoted(q.AppID)}
	switch q.Kind {
	case UserSignIns, "":
		clauses = append(clauses, "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')")
	case AppSignIns:
		clauses = append(clauses, "signInEventTypes/any(t: t eq 'servicePrincipal')")
	default:
		return "", fmt.Errorf("read sign-ins: unknown kind %q: use %q or %q", q.Kind, UserSignIns, AppSignIns)
	}
	if q.UPN != "" {
		clauses = append(clauses, "userPrincipalName eq "+quoted(strings.ToLower(q.UPN)))
	}
	if q.KeyID != "" {
		clauses = append(clauses, "servicePrincipalCredentialKeyId eq "+quoted(q.KeyID))
	}
	if !q.Since.IsZero() {
		clauses = append(clauses, "createdDateTime ge "+q.Since.UTC().Format(time.RFC3339))
	}
	return strings.Join(clauses, " and "), nil
}

// quoted is s as an OData string literal.
func quoted(s string) string { return "'" + odataString(s) + "'" }

// needing notes on a refused Graph call which permissions it needs, so
// GraphError.Fix names them.
func needing(err error, perms string) error {
	var ge *GraphError
	if errors.As(err, &ge) && ge.Status == 403 && !ge.noPremium() && !ge.accessPolicy() {
		ge.Need = perms
	}
	return err
}

// CredentialActivity is when a client secret of the app last signed in
// successfully, from Graph beta's appCredentialSignInActivities report.
type CredentialActivity struct {
	KeyID, KeyType string
	Expires        time.Time
	LastSignIn     time.Time // zero: no sign-in on record
}

// CredentialActivity reads the last sign-in of each of the app's
// credentials. It needs AuditLog.Read.All and a premium tenant; the
// report's freshness is undocumented: "last seen", not alerting.
func (g *Graph) CredentialActivity(ctx context.Context, appID string) ([]CredentialActivity, error) {
	type row struct {
		KeyID              string    `json:"keyId"`
		KeyType            string    `json:"keyType"`
		ExpirationDateTime time.Time `json:"expirationDateTime"`
		SignInActivity     *struct {
			LastSignInDateTime time.Time `json:"lastSignInDateTime"`
		} `json:"signInActivity"`
	}
	rows, err := List[row](ctx, g, "/beta/reports/appCredentialSignInActivities?$filter="+url.QueryEscape("appId eq "+quoted(appID)))
	if err != nil {
		return nil, fmt.Errorf("read the credential activity of app %s: %w", appID, needing(err, reportsNeed))
	}
	out := make([]CredentialActivity, 0, len(rows))
	for _, r := range rows {
		ca := CredentialActivity{KeyID: r.KeyID, KeyType: r.KeyType, Expires: r.ExpirationDateTime}
		if r.SignInActivity != nil {
			ca.LastSignIn = r.SignInActivity.LastSignInDateTime
		}
		out = append(out, ca)
	}
	return out, nil
}
