package conn

import (
	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

// HandOff is the profile's hand-off sheet, its stored secret in it (masked
// unless the sheet is written revealed): what the product's own settings
// screen needs.
func HandOff(db *store.DB, p store.Profile) appreg.HandOff {
	in := appreg.HandOffInput{Tenant: Tenant(p), NeedsSecret: p.OnPremises}
	if plan, err := Plan(p); err == nil && plan != nil {
		in.NeedsSecret = in.NeedsSecret || plan.NeedsSecret
	}
	if cs, err := db.ClientSecret(p.ID); err == nil {
		in.Secret = cs.Value
	}
	if users, err := db.Users(p.ID); err == nil && len(users) > 0 {
		in.Mailbox = Mailbox(users[0])
	}
	return appreg.NewHandOff(p, in)
}
