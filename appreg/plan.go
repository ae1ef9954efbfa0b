// Package appreg knows what to create in Microsoft Entra ID and Exchange
// for a scenario: the presets of the products modauth was built from,
// the permission plan they derive, the checklist, manifest, az script and
// Exchange PowerShell that carry it out by hand, and doing it through
// Microsoft Graph when an admin signs in.
package appreg

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modauth/modauth/store"
)

// Data is what a product keeps in step with Exchange.
type Data string

const (
	Calendar Data = "calendar"
	Contacts Data = "contacts"
	Tasks    Data = "tasks"
	MailSend Data = "mail-send"
)

// Scenario is what the consultant chose: the input of a plan.
type Scenario struct {
	Preset      string // preset ID, if the scenario came from one
	Product     string // e.g. AllSolutions; names the app registration
	Environment string // production, acceptance: one app each
	Model       store.AccessModel
	Protocols   []store.Protocol
	Data        []Data // what Graph syncs or sends; EWS needs no list
	OnPremises  bool   // Exchange Server instead of Exchange Online
	// RedirectURI is the product's own callback (Web platform), where the
	// product redeems codes itself with the client secret; "" if it has none.
	RedirectURI string
	// NativeRedirectURIs are the product's own Mobile and desktop redirect
	// URIs, for products that sign in from a desktop window.
	NativeRedirectURIs []string
	// DeviceCode lets people sign in with a code on another device, for
	// servers without a browser. It needs "Allow public client flows".
	DeviceCode bool
	// ProductSecret: the product sends a client secret with its own
	// sign-ins although modauth's need none (Flowfact's guide has one
	// made), so the registration gets a secret for the product.
	ProductSecret bool
	// Certificate: the app signs in with a certificate modauth makes (a
	// key pair it keeps sealed) rather than a client secret; app-only.
	Certificate bool
	// Hosts are the cloud's: the token audiences come from them. The
	// zero value is the public cloud.
	Hosts store.Hosts
}

// TokenRequest is one access token a connection asks for: one resource
// per token, several tokens from one refresh token.
type TokenRequest struct {
	Audience  string           // App ID URI the token is for
	Scopes    []string         // full scope strings to send
	Protocols []store.Protocol // what the token is used for
}

// Warning is advice the product's own guide gets wrong today, or a trap.
type Warning struct {
	Title  string
	Detail string
	WayOut string
}

// Plan is everything to create for a scenario.
type Plan struct {
	Scenario
	// NeedsApp is false when no Entra app is involved (on-premises EWS
	// with a service account).
	NeedsApp             bool
	DisplayName          string
	SignInAudience       string // always single tenant
	WebRedirectURIs      []string
	PublicRedirectURIs   []string
	FallbackPublicClient bool
	NeedsSecret          bool
	Permissions          []Permission
	Tokens               []TokenRequest
	// SignInScopes is what an interactive sign-in asks for: every
	// delegated permission, so one consent and one refresh token cover
	// every token request.
	SignInScopes []string
	AdminConsent bool
	// Monitor is the optional read-only monitoring app modauth may use
	// beside the product's; nil when no app is registered at all.
	Monitor  *MonitorPlan
	Warnings []Warning
	Notes    []string // the product's own steps and pitfalls, from its preset

	byProtocol map[store.Protocol][]Permission
}

// ErrScenario marks a scenario that cannot be planned as given.
var ErrScenario = errors.New("scenario")

// loopbackRedirect is modauth's own sign-in redirect; Entra ignores its port.
const loopbackRedirect = "http://localhost"

// NewPlan derives the registration for a scenario.
func NewPlan(s Scenario) (*Plan, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	p := &Plan{Scenario: s, NeedsApp: !s.OnPremises, SignInAudience: "AzureADMyOrg"}
	p.DisplayName = fmt.Sprintf("%s Exchange (%s)", s.Product, s.Environment)
	p.warn()
	if pre, ok := PresetByID(s.Preset); ok {
		p.Notes = pre.Notes
		p.Warnings = append(p.Warnings, pre.Warnings...)
	}
	if !p.NeedsApp {
		return p, nil
	}
	p.Monitor = newMonitorPlan(p.DisplayName)
	switch s.Model {
	case store.AppOnly:
		p.planAppOnly()
	default:
		p.planDelegated()
	}
	// Per-user models get admin consent too, as the products' guides do:
	// many tenants stop users from consenting, and nobody is asked twice.
	p.AdminConsent = s.Model == store.Delegated
	for _, perm := range p.Permissions {
		p.AdminConsent = p.AdminConsent || perm.AdminConsent
	}
	return p, nil
}

func (s Scenario) validate() error {
	switch {
	case s.Product == "":
		return fmt.Errorf("%w: name the product (or choose Generic)", ErrScenario)
	case s.Environment == "":
		return fmt.Errorf("%w: choose the environment (production or acceptance)", ErrScenario)
	case len(s.Protocols) == 0:
		return fmt.Errorf("%w: choose at least one protocol", ErrScenario)
	case s.Model != store.Delegated && s.Model != store.ServiceAccount && s.Model != store.AppOnly:
		return fmt.Errorf("%w: unknown access model %q", ErrScenario, s.Model)
	case s.OnPremises && (s.Model != store.ServiceAccount || !slices.Equal(s.Protocols, []store.Protocol{store.EWS})):
		return fmt.Errorf("%w: on-premises Exchange is reached by EWS with a service account that has impersonation rights; choose that model and protocol", ErrScenario)
	case s.RedirectURI != "" && !strings.HasPrefix(s.RedirectURI, "https://") && !strings.HasPrefix(s.RedirectURI, "http://localhost"):
		return fmt.Errorf("%w: redirect URI %q must use https (only http://localhost may be plain http)", ErrScenario, s.RedirectURI)
	}
	if slices.Contains(s.Protocols, store.Graph) && len(s.Data) == 0 {
		return fmt.Errorf("%w: say what Graph is used for (calendar, contacts, tasks, mail-send)", ErrScenario)
	}
	return nil
}

func (s Scenario) uses(p store.Protocol) bool { return slices.Contains(s.Protocols, p) }

func (s Scenario) syncs(d Data) bool { return slices.Contains(s.Data, d) }

// planDelegated: users (or one service account) sign in; each has a
// refresh token. IMAP, POP and SMTP tokens need the Outlook audience,
// Graph its own, EWS the Exchange Online one.
func (p *Plan) planDelegated() {
	p.PublicRedirectURIs = append([]string{loopbackRedirect}, p.NativeRedirectURIs...)
	if p.RedirectURI != "" {
		p.WebRedirectURIs = []string{p.RedirectURI}
		p.NeedsSecret = true
	}
	p.NeedsSecret = p.NeedsSecret || p.ProductSecret
	p.FallbackPublicClient = p.DeviceCode

	h := p.Hosts.WithDefaults()
	add := func(audience string, proto store.Protocol, perms ...Permission) {
		if !p.uses(proto) {
			return
		}
		p.grant(proto, perms...)
		p.tokenFor(audience, proto, perms...)
	}
	add(h.ExchangeResource, store.EWS, permEWSUser)
	add(h.MailResource, store.IMAP, permIMAPUser)
	add(h.MailResource, store.POP, permPOPUser)
	add(h.MailResource, store.SMTP, permSMTPSend)
	for _, d := range []struct {
		data Data
		perm Permission
	}{{Calendar, permCalendars}, {Contacts, permContacts}, {Tasks, permTasks}, {MailSend, permMailSendU}} {
		if p.syncs(d.data) {
			add(h.GraphResource, store.Graph, d.perm)
		}
	}
	// Who signed in is checked from the id_token; the refresh token needs
	// offline_access. User.Read lets the sign-in read its own profile.
	p.Permissions = append(p.Permissions, permOpenID, permProfile, permOfflineAccess, permUserRead)
	for _, t := range p.Tokens {
		p.SignInScopes = append(p.SignInScopes, t.Scopes...)
	}
	p.SignInScopes = append(p.SignInScopes, "openid", "profile", "offline_access")
}

// planAppOnly: client credentials with a secret; every permission is an
// application role an admin grants, and tokens ask for /.default.
func (p *Plan) planAppOnly() {
	p.NeedsSecret = true
	h := p.Hosts.WithDefaults()
	add := func(audience string, proto store.Protocol, perms ...Permission) {
		if !p.uses(proto) {
			return
		}
		p.grant(proto, perms...)
		p.tokenFor(audience, proto)
	}
	add(h.ExchangeResource, store.EWS, permFullAccessAsApp)
	add(h.ExchangeResource, store.IMAP, permIMAPApp)
	add(h.ExchangeResource, store.POP, permPOPApp)
	add(h.ExchangeResource, store.SMTP, permSMTPApp)
	for _, d := range []struct {
		data Data
		perm Permission
	}{{Calendar, permCalendarsApp}, {Contacts, permContactsApp}, {Tasks, permTasksApp}, {MailSend, permMailSendApp}} {
		if p.syncs(d.data) {
			add(h.GraphResource, store.Graph, d.perm)
		}
	}
	// Resolving users' UPNs and reading the secret's expiry need these.
	p.Permissions = append(p.Permissions, permUserReadAllApp, permAppReadAllApp)
	p.tokenFor(h.GraphResource, "")
}

// grant adds the permissions a protocol uses.
func (p *Plan) grant(proto store.Protocol, perms ...Permission) {
	p.Permissions = append(p.Permissions, perms...)
	if p.byProtocol == nil {
		p.byProtocol = map[store.Protocol][]Permission{}
	}
	p.byProtocol[proto] = append(p.byProtocol[proto], perms...)
}

// For returns the permissions the plan grants for a protocol's own work:
// what a connection test of that protocol may rely on.
func (p *Plan) For(proto store.Protocol) []Permission {
	return slices.Clone(p.byProtocol[proto])
}

// tokenFor adds perms' scopes (or /.default when none are given) to the
// token request for audience, creating it on first use.
func (p *Plan) tokenFor(audience string, proto store.Protocol, perms ...Permission) {
	i := slices.IndexFunc(p.Tokens, func(t TokenRequest) bool { return t.Audience == audience })
	if i < 0 {
		p.Tokens = append(p.Tokens, TokenRequest{Audience: audience})
		i = len(p.Tokens) - 1
	}
	t := &p.Tokens[i]
	if proto != "" && !slices.Contains(t.Protocols, proto) {
		t.Protocols = append(t.Protocols, proto)
	}
	if len(perms) == 0 {
		t.Scopes = []string{audience + "/.default"}
	}
	for _, perm := range perms {
		if s := audience + "/" + perm.Name; !slices.Contains(t.Scopes, s) {
			t.Scopes = append(t.Scopes, s)
		}
	}
}

// Resources lists the resources of the plan's permissions, in order.
func (p *Plan) Resources() []Resource {
	var out []Resource
	for _, perm := range p.Permissions {
		if !slices.Contains(out, perm.Resource) {
			out = append(out, perm.Resource)
		}
	}
	return out
}

// On returns the plan's permissions on r.
func (p *Plan) On(r Resource) []Permission {
	var out []Permission
	for _, perm := range p.Permissions {
		if perm.Resource == r {
			out = append(out, perm)
		}
	}
	return out
}

// SecretForModauth reports whether modauth itself uses the client secret
// (client credentials, or redeeming on the product's web redirect), and so
// asks for its value.
func (p *Plan) SecretForModauth() bool {
	return p.Model == store.AppOnly || p.RedirectURI != ""
}

// Describe says in one sentence what the scenario sets up: where the
// mail lives, over which protocols, and who signs in. It follows the
// model and protocols as chosen, not as the preset had them.
func (s Scenario) Describe() string {
	var protos []string
	for _, p := range s.Protocols {
		switch p {
		case store.Graph:
			protos = append(protos, "Microsoft Graph")
		default:
			protos = append(protos, strings.ToUpper(string(p)))
		}
	}
	where := "Exchange Online"
	if s.OnPremises {
		where = "Exchange Server on-premises"
	}
	var who string
	switch {
	case s.OnPremises:
		who = "a service account with impersonation rights reaches each mailbox, without Entra ID"
	case s.Model == store.Delegated:
		who = "each user signs in once (device code or browser) and keeps their own refresh token"
	case s.Model == store.ServiceAccount:
		who = "one service account signs in once and the product reaches each mailbox through it"
	case s.Model == store.AppOnly:
		who = "nobody signs in: the app uses its own credentials, limited to the mailboxes you choose"
	}
	product := s.Product
	if product == "" {
		product = "The product"
	}
	return fmt.Sprintf("%s with %s over %s: %s.", product, where, joinAnd(protos), who)
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	switch len(words) {
	case 0:
		return "no protocol yet"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
