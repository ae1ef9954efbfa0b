package monitor

import (
	"context"
	"errors"
	"slices"

	"github.com/modauth/modauth/store"
)

// Owner decides which tenants an engine sweeps, when several monitors
// share them (package cluster): a tenant is swept by one monitor at a time.
type Owner interface {
	// Hold reports whether this monitor owns tenant now. While it does,
	// held ends when the ownership may be lost, and the tenant's sweep
	// stops: no job and no chunk starts after it. release frees what
	// Hold set up; it is called when the sweep ends.
	Hold(ctx context.Context, tenant string) (held context.Context, release context.CancelFunc, ok bool, err error)
}

// TenantOf is the name a profile's tenant is owned by: its tenant ID, or
// for a profile with none (on-premises Exchange) the profile itself.
func TenantOf(p store.Profile) string {
	if p.TenantID != "" {
		return p.TenantID
	}
	return "profile-" + p.ID
}

// sweepable reports whether a sweep has anything to do with a profile.
func sweepable(p store.Profile) bool { return p.ClientID != "" || p.OnPremises }

// Tenants lists the tenants an engine over db sweeps, each once, as an
// Owner names them: what the monitors of a cluster share out.
func Tenants(db *store.DB) ([]string, error) {
	profiles, err := db.Profiles()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range profiles {
		if t := TenantOf(p); sweepable(p) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// hold asks the Owner, if any, whether this engine may sweep p now, and
// returns the context to sweep it on.
func (e *Engine) hold(ctx context.Context, p store.Profile) (context.Context, context.CancelFunc, bool, error) {
	if e.opts.Owner == nil {
		return ctx, func() {}, true, nil
	}
	return e.opts.Owner.Hold(ctx, TenantOf(p))
}

// Onlooker is the Owner of an engine that sweeps no tenant: the interface
// on a store the monitors of a cluster share shows their work and never
// redeems a token itself, which would race them.
type Onlooker struct{}

// Hold never holds.
func (Onlooker) Hold(ctx context.Context, _ string) (context.Context, context.CancelFunc, bool, error) {
	return ctx, func() {}, false, nil
}

// ErrNotOwner is returned by SyncNow for a tenant another monitor of the
// cluster owns: sync it from that monitor, or wait for its sweep.
var ErrNotOwner = errors.New("not this monitor's tenant")
