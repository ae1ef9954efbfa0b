package conn

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

// Result is the outcome of one protocol's probe.
type Result struct {
	Protocol store.Protocol
	OK       bool
	// Tried is what the probe did: on success what it proved, on failure
	// the step that failed.
	Tried string
	// Err is why it failed, for errors.Is; nil when OK. Show Message
	// instead: a server may have echoed a secret into Err's text.
	Err     error
	Message string // Err's text, without any secret the probe handled
	Meaning string // what the AADSTS code or Exchange's answer means, where known
	Fix     string // what to do about it
	// PowerShell is the Exchange PowerShell that fixes it, where the fix
	// is on the Exchange side: the plan's opening and the sections that
	// matter, one line per element.
	PowerShell []string
}

// Problem is a failure the connection found itself, with its fix.
type Problem struct {
	Msg, Fix string
	Topics   []string // sections of the Exchange PowerShell that fix it
	// Err is what it amounts to, for errors.Is (flows.ErrSignInNeeded,
	// exchange.ErrForbidden…), or its cause.
	Err error
}

func (p *Problem) Error() string { return p.Msg }
func (p *Problem) Unwrap() error { return p.Err }

// Probe tests one protocol of the profile as one user, with only what the
// profile's plan grants: a token for the protocol's audience (refreshing
// and storing the user's sign-in, or the app's own), the permissions the
// token must carry, then one real request that changes nothing: a delta
// page of each folder the profile syncs, opening the calendar over EWS,
// an IMAP, POP or SMTP sign-in. Sending mail has no dry run in Graph, so
// a profile that only sends proves the token carries Mail.Send and, as
// the app, that the mailbox is there.
func (c *Conn) Probe(ctx context.Context, u store.User, proto store.Protocol) Result {
	ctx, col := withCollector(ctx)
	if cs, err := c.Secret(); err == nil {
		hide(ctx, cs.Value)
	}
	p := &probe{c: c, u: u, proto: proto}
	err := p.run(ctx)
	r := Result{Protocol: proto, Tried: col.redact(p.tried)}
	if err == nil {
		r.OK = true
		return r
	}
	f := c.failure(err, u, proto, col)
	r.Err, r.Message, r.Meaning, r.Fix, r.PowerShell = err, f.Message, f.Meaning, f.Fix, f.PowerShell
	return r
}

// Failure is an error with what the connection layer knows of it: what it
// means, what to do and the Exchange PowerShell that does it, every text
// without the secrets the connection handled. The monitor keeps these in
// a job's last error, so the dashboard, check and report show the probe's
// own fix, not a general one.
type Failure struct {
	Err        error
	Message    string // Err's text, secrets removed
	Meaning    string
	Fix        string
	PowerShell []string
}

func (f *Failure) Error() string { return f.Message }
func (f *Failure) Unwrap() error { return f.Err }

// Failure returns the probe's failure as an error, or nil when it passed.
func (r Result) Failure() error {
	if r.OK {
		return nil
	}
	return &Failure{Err: r.Err, Message: r.Message, Meaning: r.Meaning, Fix: r.Fix, PowerShell: r.PowerShell}
}

// Explain says what err, met while reaching u's mailbox over proto, means
// and how to fix it.
func (c *Conn) Explain(err error, u store.User, proto store.Protocol) *Failure {
	col := &collector{}
	if cs, serr := c.Secret(); serr == nil && !cs.Value.IsZero() {
		col.secrets = append(col.secrets, cs.Value.Reveal())
	}
	return c.failure(err, u, proto, col)
}

func (c *Conn) failure(err error, u store.User, proto store.Protocol, col *collector) *Failure {
	meaning, fix, topics := c.explain(err, proto)
	return &Failure{
		Err: err, Message: col.redact(err.Error()),
		Meaning: col.redact(meaning), Fix: col.redact(fix),
		PowerShell: pickPowerShell(c.powerShell(u), topics),
	}
}

// probe is one run of Probe: tried follows its steps.
type probe struct {
	c     *Conn
	u     store.User
	proto store.Protocol
	tried string
}

func (p *probe) step(what string) { p.tried = what }

func (p *probe) run(ctx context.Context) error {
	switch p.proto {
	case store.Graph:
		return p.graph(ctx)
	case store.EWS:
		return p.ews(ctx)
	case store.IMAP, store.POP, store.SMTP:
		return p.mail(ctx)
	}
	p.step("nothing")
	return &Problem{Msg: fmt.Sprintf("modauth cannot test %s", p.proto), Fix: "Remove the protocol from the profile (step 1)."}
}

// token gets the protocol's token and checks it carries every permission
// the plan grants for the protocol.
func (p *probe) token(ctx context.Context) (store.Secret, error) {
	c, aud := p.c, p.c.Audience(p.proto)
	var tok store.Secret
	var err error
	if c.prof.Model == store.AppOnly {
		p.step("get the app's token for " + aud)
		tok, err = c.AppToken(ctx, aud)
	} else {
		p.step("renew the sign-in of " + cmp.Or(p.u.Account, p.u.Key) + " for " + aud)
		tok, err = c.UserToken(ctx, p.u, aud)
	}
	if err != nil {
		return "", err
	}
	p.step("check that the token carries the plan's permissions for " + string(p.proto))
	return tok, c.checkGrants(tok, p.proto)
}

// checkGrants finds the plan's permissions for a protocol that a token
// lacks: an app's token names its roles, a user's its scopes.
func (c *Conn) checkGrants(tok store.Secret, proto store.Protocol) error {
	plan := c.Plan()
	if plan == nil {
		return nil
	}
	claims, err := flows.ParseClaims(tok.Reveal())
	if err != nil {
		return nil // not a JWT: the request tells
	}
	app := c.prof.Model == store.AppOnly
	have := claims.Roles
	if !app {
		have = strings.Fields(claims.Scp)
	}
	var missing []appreg.Permission
	for _, perm := range plan.For(proto) {
		if (perm.Kind == appreg.AppRole) == app && !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, perm.Name) }) {
			missing = append(missing, perm)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := permNames(missing)
	if app {
		return &Problem{Msg: "the app's token lacks " + names, Fix: grantFix(c.prof, missing, true), Err: flows.ErrAdminConsentRequired}
	}
	return &Problem{Msg: "the user's token lacks " + names, Fix: grantFix(c.prof, missing, false), Err: flows.ErrConsentRequired}
}

func (p *probe) graph(ctx context.Context) error {
	c := p.c
	tok, err := p.token(ctx)
	if err != nil {
		return err
	}
	g := c.Graph(func(context.Context) (store.Secret, error) { return tok, nil })
	g.Retries = 1
	id := GraphID(p.u)
	var page struct {
		Value []struct{} `json:"value"`
	}
	var read []string
	items := 0
	for _, f := range c.prof.Folders {
		var err error
		switch f {
		case exchange.FolderCalendar:
			p.step("read a delta page of the calendar")
			now := c.d.Now()
			err = g.Do(ctx, http.MethodGet, exchange.CalendarDelta(id, now.Add(-7*24*time.Hour), now.Add(7*24*time.Hour)), nil, &page)
		case exchange.FolderContacts:
			p.step("read a delta page of the contacts")
			err = g.Do(ctx, http.MethodGet, exchange.ContactsDelta(id, "contacts"), nil, &page)
		case exchange.FolderTasks:
			p.step("find the default task list")
			page.Value = nil
			_, err = g.DefaultTaskList(ctx, id)
		default:
			continue
		}
		if err != nil {
			return err
		}
		read, items = append(read, "the "+f), items+len(page.Value)
	}
	var did []string
	if len(read) > 0 {
		did = append(did, fmt.Sprintf("read %s (one delta page each, %d items)", joinAnd(read), items))
	}
	if c.sends() {
		sent, err := p.mayItSend(ctx, g, id)
		if err != nil {
			return err
		}
		did = append(did, sent)
	}
	if len(did) == 0 {
		did = append(did, "got a Graph token (the profile syncs no folder)")
	}
	p.step(strings.Join(did, "; "))
	return nil
}

// sends reports whether the plan grants Graph's Mail.Send.
func (c *Conn) sends() bool {
	plan := c.Plan()
	return plan != nil && slices.ContainsFunc(plan.For(store.Graph), func(perm appreg.Permission) bool { return perm.Name == "Mail.Send" })
}

// planned finds a permission of the plan by name and kind.
func (c *Conn) planned(name string, kind appreg.Kind) (appreg.Permission, bool) {
	plan := c.Plan()
	if plan == nil {
		return appreg.Permission{}, false
	}
	i := slices.IndexFunc(plan.Permissions, func(perm appreg.Permission) bool { return perm.Name == name && perm.Kind == kind })
	if i < 0 {
		return appreg.Permission{}, false
	}
	return plan.Permissions[i], true
}

// mayItSend is the Mail.Send probe, which sends nothing: the token carries
// Mail.Send (checked with the others) and, for the app, the mailbox it
// sends from is found with User.Read.All, which the plan grants for that.
func (p *probe) mayItSend(ctx context.Context, g *exchange.Graph, id string) (string, error) {
	const noMail = " (Graph has no dry run of sendMail: no mail was sent)"
	if p.c.prof.Model != store.AppOnly {
		return "the user's token carries Mail.Send" + noMail, nil
	}
	p.step("look the mailbox " + Mailbox(p.u) + " up")
	var du exchange.DirectoryUser
	err := g.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(id)+"?$select=id,userPrincipalName,mail", nil, &du)
	if err != nil {
		if perm, ok := p.c.planned("User.Read.All", appreg.AppRole); ok && isForbidden(err) {
			return "", &Problem{Msg: firstLine(err.Error()), Fix: grantFix(p.c.prof, []appreg.Permission{perm}, true), Err: err}
		}
		return "", err
	}
	return "found the mailbox " + cmp.Or(du.Mail, du.UserPrincipalName) + "; the app's token carries Mail.Send" + noMail, nil
}

func (p *probe) ews(ctx context.Context) error {
	c := p.c
	x, imp := c.EWS(p.u)
	x.Retries = 1
	if c.prof.OnPremises {
		if cs, _ := c.Secret(); cs.Value.IsZero() {
			p.step("sign in as the service account")
			return &Problem{Msg: "no password is stored for the service account", Fix: "Go back to the IDs step (esc) and enter the service account's password."}
		}
	} else {
		tok, err := p.token(ctx)
		if err != nil {
			return err
		}
		x.Token = func(context.Context) (store.Secret, error) { return tok, nil }
	}
	opened := "opened the calendar"
	if imp != nil {
		opened += " as " + imp.SMTP + " (impersonation)"
	}
	p.step(strings.Replace(opened, "opened", "open", 1))
	if _, err := x.GetFolder(ctx, imp, "calendar"); err != nil {
		return err
	}
	p.step(opened)
	return nil
}

func (p *probe) mail(ctx context.Context) error {
	tok, err := p.token(ctx)
	if err != nil {
		return err
	}
	mailbox, addr := Mailbox(p.u), p.c.MailAddr(p.proto)
	p.step("sign in as " + mailbox + " at " + addr)
	if err := p.c.MailProbe(p.proto).Probe(ctx, exchange.MailProtocol(p.proto), mailbox, tok); err != nil {
		return err
	}
	proved := map[store.Protocol]string{
		store.IMAP: "opened the inbox read-only",
		store.POP:  "read the mailbox's size",
		store.SMTP: "named it as sender, no mail sent",
	}[p.proto]
	p.step("signed in as " + mailbox + " at " + addr + "; " + proved)
	return nil
}

func permNames(perms []appreg.Permission) string {
	var names []string
	for _, p := range perms {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	return joinAnd(names)
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
