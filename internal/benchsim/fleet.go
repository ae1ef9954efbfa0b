package benchsim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/store"
)

// Fleet is what a benchmark stored, and which tenant each user, app and
// tenant path segment belongs to.
type Fleet struct {
	Users int
	// MinTokens is the fewest token requests a sweep can make once every
	// access token has expired: one client-credentials token per app-only
	// profile, one refresh per delegated user (Graph is the one audience).
	MinTokens int64
	tenantOf  map[string]int // lower-case tenant ID, domain, user object ID, client ID
}

// NewFleet is an empty fleet, for AddTenant.
func NewFleet() *Fleet { return &Fleet{tenantOf: map[string]int{}} }

// AddTenant stores tenant i as a profile: app-only with its client
// secret, or delegated with each user's refresh token.
func (f *Fleet) AddTenant(b testing.TB, db *store.DB, hosts store.Hosts, i int, t Tenant) {
	b.Helper()
	id := fmt.Sprintf("t%02d-production", i)
	p := store.Profile{ID: id, Customer: t.Domain, Environment: "production", TenantID: t.ID, ClientID: t.ClientID,
		Protocols: []store.Protocol{store.Graph}, Folders: []string{"calendar", "contacts", "tasks"}, Hosts: hosts}
	if t.Secret != "" {
		p.Model = store.AppOnly
		f.MinTokens++ // one Graph token for the profile
	} else {
		p.Model, p.Scopes = store.Delegated, testkit.GraphScopes
	}
	if err := db.PutProfile(p); err != nil {
		b.Fatal(err)
	}
	if p.Model == store.AppOnly {
		if err := db.SetClientSecret(id, store.ClientSecret{Value: store.Secret(t.Secret), KeyID: t.SecretKeyID}); err != nil {
			b.Fatal(err)
		}
	}
	for _, k := range []string{t.ID, t.Domain, t.ClientID} {
		f.tenantOf[strings.ToLower(k)] = i
	}
	batch := store.Batch{Profile: id, Tokens: map[string]store.Token{}}
	for _, u := range t.Users {
		batch.Users = append(batch.Users, store.User{Key: u.ObjectID, Account: u.UPN, UPN: u.UPN, ObjectID: u.ObjectID, Mapping: store.MappingOK})
		f.tenantOf[strings.ToLower(u.ObjectID)] = i
		if p.Model == store.Delegated {
			batch.Tokens[u.ObjectID] = store.Token{RefreshToken: store.Secret(u.RefreshToken), Scopes: testkit.GraphScopes, ViaDevice: true}
			f.MinTokens++ // one Graph refresh per user
		}
	}
	if err := db.Apply(batch); err != nil {
		b.Fatal(err)
	}
	f.Users += len(batch.Users)
}

// TenantOf is the tenant a user's object ID (or a tenant's ID, domain or
// client ID) belongs to.
func (f *Fleet) TenantOf(key string) (int, bool) {
	i, ok := f.tenantOf[strings.ToLower(key)]
	return i, ok
}

// RequestsByTenant counts each tenant's requests between two counts by
// path: /{tenant}/... at the identity platform, /v1.0/users/{id}/... and
// /v1.0/applications(appId='…') at Graph. A path of no known tenant
// stops the benchmark, so no request escapes the bound.
func (f *Fleet) RequestsByTenant(b testing.TB, before, after map[string]int, tenants int) []int {
	b.Helper()
	out := make([]int, tenants)
	for path, n := range after {
		if n -= before[path]; n == 0 {
			continue
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		key := segs[0]
		switch {
		case key == "v1.0" && len(segs) > 2 && segs[1] == "users":
			key = segs[2]
		case key == "v1.0" && len(segs) > 1:
			_, key, _ = strings.Cut(segs[1], "'")
			key, _, _ = strings.Cut(key, "'")
		}
		i, ok := f.TenantOf(key)
		if !ok {
			b.Fatalf("%d requests to %s: no tenant known for it", n, path)
		}
		out[i] += n
	}
	return out
}

// Bound is the physical bound of a sweep by one engine whose tenants each
// have slots request slots of their own and are swept at once: the
// busiest tenant's requests × latency ÷ slots, as long as latency is the
// only limit. It returns the busiest tenant's requests too.
func Bound(perTenant []int, latency time.Duration, slots int) (time.Duration, int) {
	busiest := 0
	for _, n := range perTenant {
		busiest = max(busiest, n)
	}
	return time.Duration(busiest) * latency / time.Duration(slots), busiest
}
