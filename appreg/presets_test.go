package appreg_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

// perms lists a plan's permissions as "Resource/Name/Kind".
func perms(p *appreg.Plan) []string {
	var out []string
	for _, perm := range p.Permissions {
		out = append(out, perm.Resource.Name+"/"+perm.Name+"/"+string(perm.Kind))
	}
	return out
}

func hasWarning(p *appreg.Plan, words string) bool {
	for _, w := range p.Warnings {
		if strings.Contains(w.Title+" "+w.Detail, words) {
			return true
		}
	}
	return false
}

func powerShell(t *testing.T, p *appreg.Plan) string {
	var b bytes.Buffer
	if err := p.ExchangePowerShell(&b, appreg.AdminInput{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func tokens(p *appreg.Plan) map[string][]string {
	m := map[string][]string{}
	for _, t := range p.Tokens {
		m[t.Audience] = t.Scopes
	}
	return m
}

// Each preset against what its vendor guide states (shared/seeds), and
// against what is true today where the guide is wrong.
func TestPresetsMatchTheirSeeds(t *testing.T) {
	t.Run("000 AllSolutions online: service account, auth code with secret at jsonhandler.ashx, EWS", func(t *testing.T) {
		p := presetPlan(t, "allsolutions-online")
		if p.Model != store.ServiceAccount || !slices.Equal(p.WebRedirectURIs, []string{"https://crm.example.com/jsonhandler.ashx"}) || !p.NeedsSecret {
			t.Errorf("model %s web %v secret %v", p.Model, p.WebRedirectURIs, p.NeedsSecret)
		}
		if !slices.Contains(perms(p), "Office 365 Exchange Online/EWS.AccessAsUser.All/Scope") || p.SignInAudience != "AzureADMyOrg" {
			t.Errorf("perms %v audience %s", perms(p), p.SignInAudience)
		}
		if got := tokens(p)["https://outlook.office365.com"]; !slices.Equal(got, []string{"https://outlook.office365.com/EWS.AccessAsUser.All"}) {
			t.Errorf("EWS token scopes %v", got)
		}
		if !hasWarning(p, "1 October 2026") || !hasWarning(p, "ApplicationImpersonation") {
			t.Errorf("want the EWS and impersonation warnings: %+v", p.Warnings)
		}
		if p.DisplayName != "AllSolutions Exchange (production)" {
			t.Errorf("name %q", p.DisplayName)
		}
	})
	t.Run("004 AllSolutions on-premises: no Entra app, impersonation and Basic on EWS", func(t *testing.T) {
		p := presetPlan(t, "allsolutions-onprem")
		if p.NeedsApp || len(p.Permissions) != 0 {
			t.Errorf("needs app %v perms %v", p.NeedsApp, perms(p))
		}
		ps := powerShell(t, p)
		for _, want := range []string{"-Role ApplicationImpersonation -User $ServiceAccount", "-BasicAuthentication $true", "Get-WebServicesVirtualDirectory"} {
			if !strings.Contains(ps, want) {
				t.Errorf("PowerShell lacks %q", want)
			}
		}
	})
	t.Run("001 Divalto: per user, EWS.AccessAsUser.All on Exchange (not Graph), public client flows, admin consent", func(t *testing.T) {
		p := presetPlan(t, "divalto")
		if p.Model != store.Delegated || !p.FallbackPublicClient || !p.AdminConsent {
			t.Errorf("model %s public %v consent %v", p.Model, p.FallbackPublicClient, p.AdminConsent)
		}
		if !slices.Contains(perms(p), "Office 365 Exchange Online/EWS.AccessAsUser.All/Scope") || slices.Contains(perms(p), "Microsoft Graph/EWS.AccessAsUser.All/Scope") {
			t.Errorf("perms %v", perms(p))
		}
		if !hasWarning(p, "wrong EWS.AccessAsUser.All") || !hasWarning(p, "1 October 2026") {
			t.Errorf("warnings %+v", p.Warnings)
		}
	})
	t.Run("002 Flowfact: per user IMAP, POP, SMTP on Graph with the Outlook audience, offline_access, SMTP AUTH", func(t *testing.T) {
		p := presetPlan(t, "flowfact")
		for _, want := range []string{"Microsoft Graph/IMAP.AccessAsUser.All/Scope", "Microsoft Graph/POP.AccessAsUser.All/Scope", "Microsoft Graph/SMTP.Send/Scope", "Microsoft Graph/offline_access/Scope"} {
			if !slices.Contains(perms(p), want) {
				t.Errorf("missing %s in %v", want, perms(p))
			}
		}
		if got := tokens(p)["https://outlook.office.com"]; len(got) != 3 || !strings.HasPrefix(got[0], "https://outlook.office.com/IMAP") {
			t.Errorf("outlook token scopes %v", got)
		}
		if !slices.Contains(p.PublicRedirectURIs, "https://login.microsoftonline.com/common/oauth2/nativeclient") || !p.AdminConsent {
			t.Errorf("public %v consent %v", p.PublicRedirectURIs, p.AdminConsent)
		}
		if ps := powerShell(t, p); !strings.Contains(ps, "-SmtpClientAuthenticationDisabled $false") || !strings.Contains(ps, "-ImapEnabled $true -PopEnabled $true") {
			t.Errorf("PowerShell:\n%s", ps)
		}
		if !slices.Contains(p.SignInScopes, "offline_access") {
			t.Errorf("sign-in scopes %v", p.SignInScopes)
		}
	})
	t.Run("003 moveIT delegated: the dedicated mailbox signs in, Graph Mail.Send delegated, 90-day warning", func(t *testing.T) {
		p := presetPlan(t, "moveit-delegated")
		if !slices.Contains(perms(p), "Microsoft Graph/Mail.Send/Scope") || len(p.PublicRedirectURIs) == 0 || !hasWarning(p, "90 days") {
			t.Errorf("perms %v redirects %v warnings %+v", perms(p), p.PublicRedirectURIs, p.Warnings)
		}
	})
	t.Run("003 moveIT app-only: client credentials, Graph Mail.Send application, scoped by RBAC", func(t *testing.T) {
		p := presetPlan(t, "moveit-app-only")
		if p.Model != store.AppOnly || !p.NeedsSecret || !p.AdminConsent || len(p.WebRedirectURIs)+len(p.PublicRedirectURIs) != 0 {
			t.Errorf("plan %+v", p)
		}
		if !slices.Contains(perms(p), "Microsoft Graph/Mail.Send/Role") {
			t.Errorf("perms %v", perms(p))
		}
		if got := tokens(p)["https://graph.microsoft.com"]; !slices.Equal(got, []string{"https://graph.microsoft.com/.default"}) {
			t.Errorf("graph token %v", got)
		}
		ps := powerShell(t, p)
		for _, want := range []string{"New-ServicePrincipal -AppId $AppId -ObjectId $SPObjectId", "New-ManagementScope", "-Role 'Application Mail.Send' -CustomResourceScope", "Test-ServicePrincipalAuthorization", "tenant-wide admin consent"} {
			if !strings.Contains(ps, want) {
				t.Errorf("PowerShell lacks %q", want)
			}
		}
		if !hasWarning(p, "Application Access Policy") {
			t.Errorf("want the legacy-policy warning")
		}
	})
}

func TestEWSOnlineAlwaysWarns(t *testing.T) {
	for _, m := range []store.AccessModel{store.Delegated, store.ServiceAccount, store.AppOnly} {
		p, err := appreg.NewPlan(appreg.Scenario{Product: "X", Environment: "acceptance", Model: m, Protocols: []store.Protocol{store.EWS}})
		if err != nil {
			t.Fatal(err)
		}
		if !hasWarning(p, "1 October 2026") {
			t.Errorf("%s: no EWS warning", m)
		}
		var b bytes.Buffer
		p.Checklist(&b)
		if !strings.Contains(b.String(), "EwsAllowedAppIDs") {
			t.Errorf("%s: checklist does not name the way out", m)
		}
	}
}

func TestAppOnlyEWSUsesFullAccessAsApp(t *testing.T) {
	p, err := appreg.NewPlan(appreg.Scenario{Product: "X", Environment: "production", Model: store.AppOnly, Protocols: []store.Protocol{store.EWS, store.IMAP}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(perms(p), "Office 365 Exchange Online/full_access_as_app/Role") {
		t.Errorf("perms %v", perms(p))
	}
	// IMAP.AccessAsApp's ID is not published: the manifest leaves it out
	// and says so, the az script reads it from the tenant.
	_, unresolved := p.Manifest()
	if len(unresolved) != 1 || unresolved[0].Name != "IMAP.AccessAsApp" {
		t.Errorf("unresolved %v", unresolved)
	}
	var b bytes.Buffer
	p.AzScript(&b)
	if !strings.Contains(b.String(), "appRoles[?value=='IMAP.AccessAsApp'].id") {
		t.Errorf("az script does not resolve the role:\n%s", b.String())
	}
}

func TestScenarioErrors(t *testing.T) {
	base := appreg.Scenario{Product: "X", Environment: "production", Model: store.Delegated, Protocols: []store.Protocol{store.IMAP}}
	cases := map[string]func(*appreg.Scenario){
		"no product":          func(s *appreg.Scenario) { s.Product = "" },
		"no protocols":        func(s *appreg.Scenario) { s.Protocols = nil },
		"graph without data":  func(s *appreg.Scenario) { s.Protocols = []store.Protocol{store.Graph} },
		"on-prem IMAP":        func(s *appreg.Scenario) { s.OnPremises = true },
		"plain http redirect": func(s *appreg.Scenario) { s.RedirectURI = "http://crm.example.com/cb" },
		"unknown model":       func(s *appreg.Scenario) { s.Model = "magic" },
	}
	for name, mod := range cases {
		s := base
		mod(&s)
		if _, err := appreg.NewPlan(s); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := appreg.NewPlan(base); err != nil {
		t.Errorf("base scenario: %v", err)
	}
}

func TestProductAddressAsPeoplePasteIt(t *testing.T) {
	for in, want := range map[string]string{
		"acme.allsolutions.nl":                          "acme.allsolutions.nl",
		"https://acme.allsolutions.nl/":                 "acme.allsolutions.nl",
		" HTTPS://Acme.AllSolutions.nl ":                "acme.allsolutions.nl",
		"https://acme.allsolutions.nl/jsonhandler.ashx": "acme.allsolutions.nl",
		"http://crm.acme.nl:8443/allsolutions/":         "crm.acme.nl:8443/allsolutions",
		"https://crm.acme.nl/?tab=settings#oauth":       "crm.acme.nl",
		"crm.acme.nl/allsolutions/jsonhandler.ashx":     "crm.acme.nl/allsolutions",
	} {
		got, err := appreg.ProductAddress(in)
		if err != nil || got != want {
			t.Errorf("appreg.ProductAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "https://", "not a host", "ftp://crm.acme.nl", "https://user:pw@crm.acme.nl", "localhost", "crm_acme.nl"} {
		if got, err := appreg.ProductAddress(bad); !errors.Is(err, appreg.ErrProductAddress) {
			t.Errorf("appreg.ProductAddress(%q) = %q, %v; want appreg.ErrProductAddress", bad, got, err)
		}
	}
}

func TestPastedURLMakesOneRedirect(t *testing.T) {
	pre, _ := appreg.PresetByID("allsolutions-online")
	sc := pre.ScenarioFor("production", "https://acme.allsolutions.nl/")
	if sc.RedirectURI != "https://acme.allsolutions.nl/jsonhandler.ashx" {
		t.Fatalf("redirect %q", sc.RedirectURI)
	}
	plan, err := appreg.NewPlan(sc)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	plan.Checklist(&b)
	manifest, _ := plan.Manifest()
	for what, text := range map[string]string{"checklist": b.String(), "manifest": string(manifest)} {
		if strings.Contains(text, "https://https://") || !strings.Contains(text, "https://acme.allsolutions.nl/jsonhandler.ashx") {
			t.Errorf("%s:\n%s", what, text)
		}
	}
}

// A public client has no secret: its checklist never asks for one for the
// product's app (the optional monitoring app, after it, has its own).
func TestPublicClientChecklistsAskNoSecret(t *testing.T) {
	for _, pre := range appreg.Presets() {
		plan, err := appreg.NewPlan(pre.ScenarioFor("production", "crm.acme.nl"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		plan.Checklist(&b)
		product, _, _ := strings.Cut(b.String(), "Optional second app:")
		if asks := strings.Contains(product, "secret value") || strings.Contains(product, "New client secret"); asks != plan.NeedsSecret {
			t.Errorf("%s: needs a secret %v, the checklist asks for one %v:\n%s", pre.ID, plan.NeedsSecret, asks, b.String())
		}
	}
}

func TestDescribeFollowsTheChosenModel(t *testing.T) {
	pre, _ := appreg.PresetByID("allsolutions-online")
	sc := pre.ScenarioFor("production", "crm.acme.nl")
	sc.Model = store.Delegated
	sc.Protocols = []store.Protocol{store.EWS, store.Graph}
	got := sc.Describe()
	for _, want := range []string{"AllSolutions with Exchange Online over EWS and Microsoft Graph", "each user signs in once"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = %q, lacks %q", got, want)
		}
	}
	if strings.Contains(got, "MZZPAR") || strings.Contains(got, "service account") {
		t.Errorf("Describe() = %q names the preset's own model", got)
	}
}
