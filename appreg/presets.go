package appreg

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/modauth/modauth/store"
)

// Preset is a product's known setup, from the vendor guide modauth
// generalises. Its Scenario prefills the wizard; everything stays editable.
type Preset struct {
	ID      string
	Product string
	Seed    string // the vendor guide it comes from, in shared/seeds
	Summary string
	// Scenario has the preset's model, protocols and data; Environment is
	// left for the consultant, and "{host}" in redirect URIs stands for the
	// product's own address.
	Scenario Scenario
	// RedirectHint says where the product's redirect URI comes from.
	RedirectHint string
	// Certificates: the product can sign in with a certificate instead of
	// a client secret, so the wizard offers one (app-only).
	Certificates bool
	Notes        []string  // steps and pitfalls the guide gives
	Warnings     []Warning // where the guide's own advice is wrong today
}

// nativeClient is the redirect URI of desktop sign-in windows (embedded
// browser), the first one the portal suggests for Mobile and desktop.
const nativeClient = "https://login.microsoftonline.com/common/oauth2/nativeclient"

var presets = []Preset{
	{
		ID: "allsolutions-online", Product: "AllSolutions", Seed: "000",
		Summary: "AllSolutions 22.0.10+ with Exchange Online: contacts, tasks and appointments over EWS; the MZZPAR account signs in once (authorization code with a client secret).",
		Scenario: Scenario{
			Model: store.ServiceAccount, Protocols: []store.Protocol{store.EWS},
			RedirectURI: "https://{host}/jsonhandler.ashx",
		},
		RedirectHint: "https://<AllSolutions address>/jsonhandler.ashx, exactly as in MILSCN's Redirect URL field",
		Notes: []string{
			"Register one app per environment: acceptance first, then production.",
			"In MILSCN create an import location of type EWS with the Application (client) ID, the client secret value, the v2 authorization and token endpoints and the redirect URL; in MZZPAR > Exchange Webservice set Authentication method to OAuth 2.0 and Interface voor EWS to that location.",
			"Sign in only with the MZZPAR account, in a private (incognito) window; afterwards MILSCN's refresh token field is filled.",
			"The Exchange account field in MGEBRU must hold each user's UPN: a wrong one stops that user's sync without any message (appointments without a sync-id). modauth's user mapping finds these.",
			"AllSolutions cannot read the secret's expiry: modauth keeps the countdown.",
		},
		Warnings: []Warning{{
			Title:  "The guide's EWS setup ends with Exchange Online's EWS",
			Detail: "AllSolutions synchronises over EWS, which Exchange Online blocks from October 2026 unless allow-listed and switches off on 1 April 2027; and the MZZPAR account can no longer impersonate other mailboxes.",
			WayOut: "Allow-list the app in EwsAllowedAppIDs for now, and plan the move to a Graph-based sync with AllSolutions.",
		}},
	},
	{
		ID: "allsolutions-onprem", Product: "AllSolutions", Seed: "004",
		Summary: "AllSolutions with Exchange Server on-premises: EWS over HTTPS with Basic authentication and a service account with impersonation rights.",
		Scenario: Scenario{
			Model: store.ServiceAccount, Protocols: []store.Protocol{store.EWS}, OnPremises: true,
		},
		Notes: []string{
			"Browsing to the EWS URL must show a Basic authentication prompt; a login form means forms-based authentication, which the product cannot use.",
			"In MZZPAR enter the EWS URL, the short AD domain, the service account and its password; in MGEBRU each user's Exchange account (user@domain).",
			"A proxy between AllSolutions and Exchange must let EWS through (or EWS web.config gets a proxy section).",
			"On hosted Exchange, limit impersonation with a management scope so the account cannot reach other customers' mailboxes.",
		},
		Warnings: []Warning{{
			Title:  "The guide's Office 365 part no longer works",
			Detail: "Basic authentication to Exchange Online is gone, pod URLs (podxxxxx.outlook.com) are dead, and ApplicationImpersonation was removed from Exchange Online in 2025.",
			WayOut: "For Exchange Online use the allsolutions-online preset.",
		}},
	},
	{
		ID: "divalto", Product: "Divalto", Seed: "001",
		Summary: "Divalto (Harmony 409 SP A+) sends mail, creates appointments and contacts over EWS; passwordless mode: each interactive user signs in.",
		Scenario: Scenario{
			Model: store.Delegated, Protocols: []store.Protocol{store.EWS},
			NativeRedirectURIs: []string{nativeClient}, DeviceCode: true,
		},
		Notes: []string{
			"Enter the Client ID and Tenant ID in 'Administration de EWS en mode OAuth2' (xCloudAdmin or Harmony.dhop), and set the authentication mechanism to OAuth Azure in the Exchange Web Services settings.",
			"Passwordless mode is for interactive users only; leave the EWS account and password fields empty.",
		},
		Warnings: []Warning{
			{
				Title:  "The guide adds the wrong EWS.AccessAsUser.All",
				Detail: "It picks the Microsoft Graph permission of that name; EWS tokens need the Office 365 Exchange Online one, with the audience https://outlook.office365.com.",
				WayOut: "Add EWS.AccessAsUser.All under APIs my organization uses > Office 365 Exchange Online, as this plan does.",
			},
			{
				Title:  "Stored EWS passwords (the guide's default mode) use a grant Microsoft advises against",
				Detail: "Signing in with a stored account and password (ROPC) fails for users with MFA, passwordless or federated sign-in.",
				WayOut: "Use the passwordless mode, where each user signs in.",
			},
		},
	},
	{
		ID: "flowfact", Product: "Flowfact Performer", Seed: "002",
		Summary: "Flowfact Performer CRM 19.0.1090+ mail service: IMAP (or POP) to receive and SMTP to send; each user signs in to their own mailbox.",
		Scenario: Scenario{
			Model: store.Delegated, Protocols: []store.Protocol{store.IMAP, store.POP, store.SMTP},
			NativeRedirectURIs: []string{nativeClient}, ProductSecret: true,
		},
		Notes: []string{
			"Copy the Tenant ID, Client ID and secret value to every O365 mail account with Admin Tools, then each user fetches their token (Get OAuth Access Token) on their own computer.",
			"An admin signing in for several users in a row lands on the first account (browser cache): have each user sign in, or use a private window per user. modauth checks every sign-in against the expected user.",
			"Restart the mail service after the change.",
		},
		Warnings: []Warning{{
			Title:  "SMTP AUTH is probably off",
			Detail: "The guide turns SMTP AUTH on for the whole organisation; per mailbox is enough and safer.",
			WayOut: "Set-CASMailbox -SmtpClientAuthenticationDisabled $false for the product's mailboxes (see the Exchange PowerShell).",
		}},
	},
	{
		ID: "moveit-delegated", Product: "moveIT", Seed: "003",
		Summary: "moveIT 50.40+ communication system (order mail): a dedicated mailbox signs in interactively and sends through Microsoft Graph.",
		Scenario: Scenario{
			Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Data: []Data{MailSend},
			NativeRedirectURIs: []string{nativeClient},
		},
		Notes: []string{
			"Use a dedicated or shared mailbox, never a personal one.",
			"In Applications > Communication system > Sender enter the sender address, client ID and tenant ID, then Authenticate and sign in with the dedicated account.",
		},
		Warnings: []Warning{{
			Title:  "The guide calls this the On-Behalf-Of flow",
			Detail: "It is an interactive sign-in whose refresh token lapses after 90 days without use, which a batch server cannot renew.",
			WayOut: "Prefer the moveit-app-only preset (client credentials), as moveIT itself recommends.",
		}},
	},
	{
		ID: "moveit-app-only", Product: "moveIT", Seed: "003",
		Summary: "moveIT 52.40.08+ (recommended): client credentials with a secret; one dedicated mailbox sends order mail through Microsoft Graph.",
		Scenario: Scenario{
			Model: store.AppOnly, Protocols: []store.Protocol{store.Graph}, Data: []Data{MailSend},
		},
		Certificates: true,
		Notes: []string{
			"In Applications > Communication system > Sender choose Exchange Online (Mit geheimen Clientschlüssel) and enter the sender address, client ID, tenant ID and secret value, then Test connection.",
			"Restrict the app to the sender mailbox (see the Exchange PowerShell) and note the secret's expiry: modauth keeps the countdown.",
		},
		Warnings: []Warning{{
			Title:  "The guide restricts the app with an Application Access Policy",
			Detail: "Application Access Policies are legacy: Microsoft says not to create new ones.",
			WayOut: "Use RBAC for Applications, as in the Exchange PowerShell of this plan.",
		}},
	},
	{
		ID: "generic", Product: "Generic", Seed: "",
		Summary: "Any product: each user signs in, and calendar, contacts and tasks sync through Microsoft Graph. Change the model and protocols to fit.",
		Scenario: Scenario{
			Model: store.Delegated, Protocols: []store.Protocol{store.Graph}, Data: []Data{Calendar, Contacts, Tasks},
			DeviceCode: true,
		},
		Certificates: true,
	},
}

// Presets lists the presets, in the order the wizard shows them.
func Presets() []Preset { return presets }

// PresetByID finds a preset.
func PresetByID(id string) (Preset, bool) {
	for _, p := range presets {
		if p.ID == id {
			return p, true
		}
	}
	return Preset{}, false
}

// ScenarioFor fills the preset's scenario for an environment, with the
// product's host in its redirect URI.
func (p Preset) ScenarioFor(environment, host string) Scenario {
	s := p.Scenario
	s.Preset, s.Product, s.Environment = p.ID, p.Product, environment
	if addr, err := ProductAddress(host); err == nil {
		host = addr
	}
	s.RedirectURI = strings.ReplaceAll(s.RedirectURI, "{host}", host)
	return s
}

// ErrProductAddress marks an address that names no web server.
var ErrProductAddress = errors.New("enter the product's address, like crm.contoso.com or https://crm.contoso.com/")

// hostRe is a DNS name or IP address with an optional port.
var hostRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)

// ProductAddress reads the product's address as people paste it, a host
// or a URL copied from the browser (https://crm.contoso.com/,
// even with the redirect's own path), and returns host[:port][/path]
// with no scheme, no trailing slash and no jsonhandler.ashx, for
// https://{host}/jsonhandler.ashx.
func ProductAddress(v string) (string, error) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", ErrProductAddress
	}
	host := strings.ToLower(u.Host)
	if !hostRe.MatchString(host) || !strings.Contains(host, ".") {
		return "", ErrProductAddress
	}
	path := strings.TrimRight(u.Path, "/")
	path = strings.TrimRight(strings.TrimSuffix(path, "/jsonhandler.ashx"), "/")
	return host + path, nil
}

// GraphWayOut says how a profile made from the preset leaves EWS for
// Microsoft Graph: another preset of the same product that uses Graph,
// the profile's own protocol setting when no preset is known, or ok false
// when the product has no Graph way that modauth knows of.
func GraphWayOut(presetID string) (wayOut string, ok bool) {
	p, known := PresetByID(presetID)
	if !known {
		return "if the product can use Microsoft Graph, set the profile's protocol to Graph and grant the Graph permissions", true
	}
	for _, q := range presets {
		if q.Product == p.Product && q.ID != p.ID && slices.Contains(q.Scenario.Protocols, store.Graph) {
			return "move " + p.Product + " to Microsoft Graph with the " + q.ID + " preset", true
		}
	}
	return "", false
}
