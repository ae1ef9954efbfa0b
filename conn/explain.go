package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

func isForbidden(err error) bool { return errors.Is(err, exchange.ErrForbidden) }

// explain says what a probe's failure means, what to do about it and
// which sections of the Exchange PowerShell fix it, where the fix is on
// the Exchange side.
func (c *Conn) explain(err error, proto store.Protocol) (meaning, fix string, topics []string) {
	p := c.prof
	var (
		pr *Problem
		se *scopeError
		fe *flows.Error
		me *exchange.MailError
		ee *exchange.EWSError
		ge *exchange.GraphError
		ne net.Error
	)
	if errors.As(err, &fe) {
		if ent, ok := flows.Lookup(fe.Code()); ok && fe.Code() != 0 {
			meaning = fmt.Sprintf("AADSTS%d: %s", ent.Code, ent.Meaning)
		}
	}
	switch {
	case errors.As(err, &pr):
		return meaning, pr.Fix, pr.Topics
	case errors.As(err, &se) && errors.Is(err, flows.ErrConsentRequired):
		return meaning, "The sign-in has no consent to " + scopeNames(se.scopes) + ". In Entra ID > App registrations > the app (" + p.ClientID +
			") > API permissions, add them and choose Grant admin consent, then have the user sign in again (the consent step).", nil
	case fe != nil:
		return meaning, fe.Fix(), nil
	case errors.As(err, &me):
		switch {
		case errors.Is(err, exchange.ErrSMTPAuthDisabled):
			topics = []string{"smtp"}
		case me.Stage == "auth" && errors.Is(err, exchange.ErrMailAuthFailed):
			if proto == store.IMAP || proto == store.POP {
				topics = append(topics, "imappop")
			}
			switch p.Model {
			case store.AppOnly:
				topics = append(topics, "rbac")
			case store.ServiceAccount:
				topics = append(topics, "delegate")
			}
		}
		return me.Reply, me.Fix, topics
	case errors.Is(err, exchange.ErrEWSBlocked):
		return c.explainEWSBlocked()
	case errors.As(err, &ee) && errors.Is(err, exchange.ErrMailboxAccessDenied):
		return strings.TrimPrefix(ee.Error(), "ews: "), fmt.Sprintf("The service account %s signed in, but may not open this mailbox: give it FullAccess "+
			"(Add-MailboxPermission -Identity <mailbox> -User %s -AccessRights FullAccess -AutoMapping $false). Exchange Online has no impersonation role any more: a service account is a delegate.",
			p.ServiceAccount, p.ServiceAccount), []string{"delegate"}
	case errors.As(err, &ee):
		meaning = strings.TrimPrefix(ee.Error(), "ews: ")
		switch {
		case p.OnPremises && ee.Status == http.StatusUnauthorized:
			topics = []string{"onprem-basic"}
		case ee.Status == http.StatusForbidden:
			topics = []string{"ews"}
		case errors.Is(err, exchange.ErrForbidden):
			switch {
			case p.OnPremises:
				topics = []string{"onprem-imp"}
			case p.Model == store.AppOnly:
				topics = []string{"rbac"}
			case p.Model == store.ServiceAccount:
				topics = []string{"delegate"}
			default:
				topics = []string{"ews"}
			}
		}
		return meaning, ee.Fix(), topics
	case errors.As(err, &ge):
		meaning = strings.TrimPrefix(ge.Error(), "graph: ")
		switch {
		case errors.Is(err, exchange.ErrAccessPolicy):
			// Not a missing consent: a policy of the Exchange admin.
			return meaning, ge.Fix(), []string{"rbac"}
		case errors.Is(err, exchange.ErrNoMailbox):
			return meaning, ge.Fix(), nil
		case ge.Status == http.StatusForbidden || ge.Code == "ErrorAccessDenied" || ge.Code == "Authorization_RequestDenied":
			if p.Model == store.AppOnly {
				return meaning, graphFix(c.Plan(), p), []string{"rbac"}
			}
			return meaning, graphFix(c.Plan(), p), nil
		case ge.Status == http.StatusUnauthorized:
			return meaning, fmt.Sprintf("Graph refused the token. Check that the profile's Graph resource (%s) is right for its cloud; for a user, sign in again (the consent step).", c.hosts.GraphResource), nil
		case ge.Code == "MailboxNotEnabledForRESTAPI" || ge.Status == http.StatusNotFound:
			return meaning, "Graph finds no Exchange Online mailbox for this user: check the user's licence in the Microsoft 365 admin center, or correct the user's account (the users step).", nil
		case ge.Status == http.StatusTooManyRequests:
			return meaning, "Graph is throttling this mailbox: wait a few minutes, then test again.", nil
		case ge.Status >= 500:
			return meaning, "Graph had a temporary problem: test again in a few minutes; check Microsoft 365 service health if it persists.", nil
		}
		return meaning, "Look the error code up in the Microsoft Graph error reference.", nil
	case errors.Is(err, context.DeadlineExceeded):
		return "", "The test did not finish in time: a proxy or firewall probably holds the connection. Test again.", nil
	case errors.As(err, &ne):
		return "", "The service could not be reached: check the profile's host names, DNS, the proxy and outbound firewall rules.", nil
	}
	return meaning, "", nil
}

// scopeNames are scopes without their resource, as the portal lists them.
func scopeNames(scopes []string) string {
	var names []string
	for _, s := range scopes {
		names = append(names, s[strings.LastIndex(s, "/")+1:])
	}
	return joinAnd(names)
}

// grantFix says where to grant permissions a token lacks.
func grantFix(p store.Profile, perms []appreg.Permission, app bool) string {
	resource := perms[0].Resource.Name
	if app {
		return fmt.Sprintf("In Entra ID > App registrations > the app (%s) > API permissions, add the %s application permission %s and choose Grant admin consent.",
			p.ClientID, resource, permNames(perms))
	}
	return fmt.Sprintf("In Entra ID > App registrations > the app (%s) > API permissions, add the %s delegated permission %s and choose Grant admin consent, then have the user sign in again (the consent step).",
		p.ClientID, resource, permNames(perms))
}

// graphFix names the Graph permissions to grant for a refused mailbox
// request.
func graphFix(plan *appreg.Plan, p store.Profile) string {
	var names []string
	if plan != nil {
		for _, perm := range plan.For(store.Graph) {
			if (perm.Kind == appreg.AppRole) == (p.Model == store.AppOnly) {
				names = append(names, perm.Name)
			}
		}
	}
	perms := "the permissions of modauth's plan"
	if len(names) > 0 {
		perms = strings.Join(names, ", ")
	}
	if p.Model == store.AppOnly {
		return "Graph refused the app this mailbox. In Entra ID > App registrations > <app> > API permissions, add the Microsoft Graph application permissions " + perms +
			" and choose Grant admin consent. Where RBAC for Applications limits the app, the mailbox must be in its management scope."
	}
	return "Graph refused access to the mailbox. In Entra ID > App registrations > <app> > API permissions, add the Microsoft Graph delegated permissions " + perms +
		", choose Grant admin consent, then have the user sign in again (the consent step)."
}

// powerShell is the plan's Exchange PowerShell for a user's mailbox.
func (c *Conn) powerShell(u store.User) string {
	plan := c.Plan()
	if plan == nil {
		return ""
	}
	var b bytes.Buffer
	in := appreg.AdminInput{AppID: c.prof.ClientID, SPObjectID: c.prof.ServicePrincipalID, ServiceAccount: c.prof.ServiceAccount}
	if mb := Mailbox(u); mb != "" {
		in.Mailboxes = []string{mb}
	}
	if err := plan.ExchangePowerShell(&b, in); err != nil {
		return ""
	}
	return b.String()
}

// psTopics tell the PowerShell's sections apart by what they run.
var psTopics = map[string][]string{
	"smtp":         {"SmtpClientAuthenticationDisabled"},
	"imappop":      {"-ImapEnabled", "-PopEnabled"},
	"ews":          {"EwsEnabled"},
	"rbac":         {"New-ServicePrincipal", "$SPObjectId", "Entra and Exchange grants add up"},
	"delegate":     {"-User $ServiceAccount -AccessRights FullAccess"},
	"onprem-imp":   {"ApplicationImpersonation"},
	"onprem-basic": {"BasicAuthentication"},
}

// pickPowerShell takes the PowerShell's opening (how to connect, and the
// variables: its first two blocks) and the sections of the topics.
func pickPowerShell(ps string, topics []string) []string {
	if ps == "" || len(topics) == 0 {
		return nil
	}
	blocks := strings.Split(strings.TrimSpace(ps), "\n\n")
	picked := blocks[:min(2, len(blocks))]
	for _, b := range blocks[len(picked):] {
		keep := false
		for _, t := range topics {
			for _, marker := range psTopics[t] {
				keep = keep || strings.Contains(b, marker)
			}
		}
		if keep {
			picked = append(picked, b)
		}
	}
	if len(picked) <= 2 {
		return nil // nothing on the Exchange side for these topics
	}
	return strings.Split(strings.Join(picked, "\n\n"), "\n")
}
