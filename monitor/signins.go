package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/store"
)

const (
	// signInsEvery is how often the product's sign-in log is read: Graph
	// allows five requests per 10 seconds per app and tenant, and the log
	// fills in minutes late anyway.
	signInsEvery = 5 * time.Minute
	// signInsLag is how far before the newest sign-in read the next read
	// starts: the log can add a sign-in minutes after it happened.
	signInsLag = 10 * time.Minute
	// signInsFirst bounds the first read: Entra keeps 30 days on P1/P2.
	signInsFirst = 30 * 24 * time.Hour
)

// readSignIns reads what is new in the product's sign-in log through the
// monitoring app, and records per user the product's last success and
// failure, and per client secret the app's own sign-ins. It never fails
// the sweep: what it cannot read, it says in the log's Unavailable.
func (e *Engine) readSignIns(ctx context.Context, c *profileConn) {
	p := c.prof
	if p.ClientID == "" || p.OnPremises || !e.due(e.signInsRead, p.ID, signInsEvery) {
		return
	}
	g, ok := c.MonitorGraph()
	if !ok {
		return // the screens say so from the profile (conn.Sees)
	}
	log, err := e.db.SignInLog(p.ID)
	if err != nil {
		e.opts.Logger.Error("read sign-in log state", "profile", p.ID, "err", err)
		return
	}
	now := e.opts.Now()
	since := log.ReadUntil.Add(-signInsLag)
	if log.ReadUntil.IsZero() {
		since = now.Add(-signInsFirst)
	}
	var got []exchange.SignIn
	for _, kind := range []exchange.SignInKind{exchange.UserSignIns, exchange.AppSignIns} {
		s, err := g.SignIns(ctx, exchange.SignInQuery{AppID: p.ClientID, Kind: kind, Since: since})
		if err != nil {
			e.unavailable(p.ID, log, signInsProblem(err))
			return
		}
		got = append(got, s...)
	}
	users, err := e.db.Users(p.ID)
	if err != nil {
		e.opts.Logger.Error("read users for sign-ins", "profile", p.ID, "err", err)
		return
	}
	recs, err := e.db.ProductSignIns(p.ID)
	if err != nil {
		e.opts.Logger.Error("read product sign-ins", "profile", p.ID, "err", err)
		return
	}
	changed := apply(&log, recs, newUserIndex(users), got)
	log.ReadAt, log.Unavailable = now, ""
	e.saveSignIns(p.ID, log, changed)
	e.noteSwitch(p.ID, log)
}

// due reports whether a profile's periodic read is due, and if so marks
// it as done now.
func (e *Engine) due(last map[string]time.Time, profileID string, every time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	if now.Sub(last[profileID]) < every {
		return false
	}
	last[profileID] = now
	return true
}

func (e *Engine) saveSignIns(profileID string, log store.SignInLog, users map[string]store.ProductSignIns) {
	if err := e.db.RecordSignIns(profileID, log, users); err != nil {
		e.opts.Logger.Error("store product sign-ins", "profile", profileID, "err", err)
	}
}

// unavailable records why the log cannot be read; only a new reason is
// written, so a profile without a monitoring app costs no transaction.
func (e *Engine) unavailable(profileID string, log store.SignInLog, why string) {
	if log.Unavailable == why {
		return
	}
	log.Unavailable, log.ReadAt = why, e.opts.Now()
	e.saveSignIns(profileID, log, nil)
}

// signInsProblem is the one line the screen shows when the log cannot be
// read.
func signInsProblem(err error) string {
	var ge *exchange.GraphError
	switch {
	case errors.Is(err, exchange.ErrNoPremium):
		return exchange.ErrNoPremium.Error() // it says the portal still shows them
	case errors.As(err, &ge) && ge.Status == 403:
		return "the monitoring app may not read sign-in logs: grant it AuditLog.Read.All and Directory.Read.All (application) with admin consent"
	}
	return fmt.Sprintf("the product's sign-ins could not be read: %v", err)
}

// apply adds the sign-ins not seen before to the users' records and the
// key use, moves the log's cursor, and returns the records it changed.
func apply(log *store.SignInLog, recs map[string]store.ProductSignIns, idx userIndex, got []exchange.SignIn) map[string]store.ProductSignIns {
	seen := make(map[string]bool, len(log.Seen))
	for _, id := range log.Seen {
		seen[id] = true
	}
	changed := map[string]store.ProductSignIns{}
	log.Unmatched = 0
	for _, s := range got {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		if s.Created.After(log.ReadUntil) {
			log.ReadUntil = s.Created
		}
		if flows.OwnRequest(s.CorrelationID) {
			continue // modauth's own sign-in with the product's app
		}
		if s.CredentialKeyID != "" {
			useKey(log, s)
		}
		if s.UPN == "" && s.UserID == "" {
			continue
		}
		key, ok := idx.find(s)
		if !ok {
			log.Unmatched++
			continue
		}
		rec, ok := changed[key]
		if !ok {
			rec = recs[key]
		}
		rec.Add(store.ProductSignIn{ID: s.ID, At: s.Created, Interactive: s.Interactive, Code: s.ErrorCode, Reason: s.FailureReason}, failure(s))
		changed[key] = rec
	}
	// Keep only what the next read's window can return again.
	var keep []string
	kept := map[string]bool{}
	for _, s := range got {
		if !s.Created.Before(log.ReadUntil.Add(-signInsLag)) && !kept[s.ID] {
			kept[s.ID] = true
			keep = append(keep, s.ID)
		}
	}
	log.Seen = keep
	return changed
}

// useKey counts an app-only sign-in against the client secret it used.
func useKey(log *store.SignInLog, s exchange.SignIn) {
	if log.Keys == nil {
		log.Keys = map[string]store.KeyUse{}
	}
	k := log.Keys[s.CredentialKeyID]
	k.Add(s.Created, s.OK())
	log.Keys[s.CredentialKeyID] = k
}

// failure is what a failed sign-in means, from the AADSTS catalog.
func failure(s exchange.SignIn) store.LastError {
	le := store.LastError{Message: s.FailureReason}
	if e, ok := flows.Lookup(s.ErrorCode); ok {
		le.Meaning, le.Fix = e.Meaning, e.Fix
	}
	return le
}

// noteSwitch makes the new secret of a rotation under way modauth's own
// once the product is seen signing in with it: from then on, a use of the
// old key is an instance of the product that still has it.
func (e *Engine) noteSwitch(profileID string, log store.SignInLog) {
	rot, ok, err := e.db.Rotation(profileID)
	if err != nil || !ok || !rot.Promoted.IsZero() {
		return
	}
	v := appreg.Retirement{Rotation: rot, Use: log.Keys}.Check(e.opts.Now())
	if !v.Promote {
		return
	}
	if _, err := e.db.PromoteRotation(profileID, v.Switched, v.By); err != nil {
		e.opts.Logger.Error("take the rotation's new secret", "profile", profileID, "err", err)
		return
	}
	e.event(store.Event{Profile: profileID, Kind: "secret", Message: fmt.Sprintf("the product signs in with the new client secret %s since %s: modauth uses it too now; the old one %s can be retired once nothing signs in with it", rot.NewKeyID, v.Switched.Format(time.RFC3339), rot.OldKeyID)})
}

// event logs an event outside a sweep's batch.
func (e *Engine) event(ev store.Event) {
	ev.At = e.opts.Now()
	if _, err := e.db.Append(ev); err != nil {
		e.opts.Logger.Error("log event", "profile", ev.Profile, "err", err)
	}
}

// userIndex finds a profile's user by what a sign-in names: the UPN (as
// resolved, as entered or as the primary SMTP address) or the object ID.
type userIndex map[string]string

func newUserIndex(users []store.User) userIndex {
	idx := userIndex{}
	for _, u := range users {
		for _, name := range []string{u.ObjectID, u.UPN, u.Account, u.PrimarySMTP} {
			if name != "" {
				idx[strings.ToLower(name)] = u.Key
			}
		}
		if u.SignedIn != nil && u.SignedIn.ObjectID != "" {
			idx[strings.ToLower(u.SignedIn.ObjectID)] = u.Key
		}
	}
	return idx
}

func (idx userIndex) find(s exchange.SignIn) (string, bool) {
	if k, ok := idx[strings.ToLower(s.UserID)]; ok && s.UserID != "" {
		return k, true
	}
	k, ok := idx[strings.ToLower(s.UPN)]
	return k, ok && s.UPN != ""
}
