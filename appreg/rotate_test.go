package appreg_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/conn"
	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/flows"
	"github.com/modauth/modauth/internal/testkit"
	"github.com/modauth/modauth/m365sim"
	"github.com/modauth/modauth/store"
)

// rotationBed is a registered app-only product with its own copy of the
// secret, the admin's Graph that rotates, and the monitoring app's Graph
// that reads the product's sign-ins.
type rotationBed struct {
	t        *testing.T
	sim      *m365sim.Sim
	admin    *exchange.Graph
	monitor  *exchange.Graph
	reg      *appreg.Registration
	db       *store.DB
	product  store.Secret // what the product's settings screen holds
	start    time.Time
	timeline []string
}

func newRotationBed(t *testing.T) *rotationBed {
	sim := m365sim.Start(t, m365sim.Options{})
	g := adminGraph(t, sim, adminUPN)
	plan := presetPlan(t, "moveit-app-only")
	reg, err := appreg.Register(testkit.Ctx(t), g, plan, appreg.RegisterOptions{Now: sim.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mon, sec := testkit.RegisterMonitor(sim, plan)
	db := testkit.Store(t, sim)
	p := store.Profile{ID: "p", ClientID: reg.ClientID, TenantID: sim.Tenant.ID, Model: store.AppOnly, Hosts: testkit.Hosts(sim),
		Monitor: &store.MonitorApp{ClientID: mon.ClientID}}
	if err := db.PutProfile(p); err != nil {
		t.Fatal(err)
	}
	if err := db.SetClientSecret("p", *reg.Secret); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMonitorSecret("p", store.ClientSecret{Value: store.Secret(sec.Value), KeyID: sec.KeyID}); err != nil {
		t.Fatal(err)
	}
	mg, ok := conn.New(p, testkit.Deps(db, sim)).MonitorGraph()
	if !ok {
		t.Fatal("no monitoring Graph")
	}
	return &rotationBed{t: t, sim: sim, admin: g, monitor: mg, reg: reg, db: db, product: reg.Secret.Value, start: sim.Clock.Now()}
}

// note adds a line to the rotation's timeline, at the simulator's time.
func (b *rotationBed) note(format string, args ...any) {
	b.timeline = append(b.timeline, fmt.Sprintf("+%-6s ", b.sim.Clock.Now().Sub(b.start).Round(time.Minute))+fmt.Sprintf(format, args...))
}

// productSyncs is the product at work: a token with the secret its
// settings hold. It must never fail.
func (b *rotationBed) productSyncs() {
	b.t.Helper()
	product := testkit.Product{Sim: b.sim, ClientID: b.reg.ClientID, Secret: b.product.Reveal()}
	if err := product.SignIn(); err != nil {
		b.t.Fatalf("the product broke: %v", err)
	}
	b.note("product signs in with the %s secret", map[bool]string{true: "old", false: "new"}[b.product == b.reg.Secret.Value])
}

func (b *rotationBed) rotate() (store.ClientSecret, store.Rotation) {
	b.t.Helper()
	var handed store.ClientSecret
	next, rot, err := appreg.Rotation{
		Graph: b.admin, ClientID: b.reg.ClientID, Current: *b.reg.Secret, Now: b.sim.Clock.Now,
		Prove: func(ctx context.Context, s store.Secret) error {
			_, err := roles(b.t, b.sim, b.reg.ClientID, s, "https://graph.microsoft.com")
			return err
		},
		Save:     func(cs store.ClientSecret, r store.Rotation) error { return b.db.StartRotation("p", r, cs) },
		HandOver: func(cs store.ClientSecret) error { handed = cs; return nil },
	}.Run(testkit.Ctx(b.t))
	if err != nil {
		b.t.Fatal(err)
	}
	if handed.KeyID != next.KeyID || rot.HandedOver.IsZero() || rot.OldKeyID != b.reg.Secret.KeyID || rot.NewKeyID != next.KeyID {
		b.t.Fatalf("handed %s, rotation %+v", handed.KeyID, rot)
	}
	if err := b.db.SetRotation("p", rot); err != nil {
		b.t.Fatal(err)
	}
	if cs, _ := b.db.ClientSecret("p"); cs.KeyID != rot.OldKeyID {
		b.t.Fatalf("modauth took the new secret %s before the product did", cs.KeyID)
	}
	b.note("rotate: new secret %s added, proven, handed over; old %s stays, and stays modauth's", short(next.KeyID), short(rot.OldKeyID))
	return next, rot
}

// retire moves the rotation on as `secret retire --when-unused` does.
func (b *rotationBed) retire() error {
	b.t.Helper()
	rot, ok, err := b.db.Rotation("p")
	if err != nil || !ok {
		b.t.Fatalf("no rotation under way: %v", err)
	}
	use, err := appreg.KeyUse(testkit.Ctx(b.t), b.monitor, b.reg.ClientID, rot.Started)
	if err != nil {
		b.t.Fatal(err)
	}
	b.admin = adminGraph(b.t, b.sim, adminUPN) // an hour's token: sign in again
	after, err := appreg.Retirement{Graph: b.admin, ClientID: b.reg.ClientID, Rotation: rot, Use: use}.Run(testkit.Ctx(b.t), b.db, "p", b.sim.Clock.Now())
	if rot.Promoted.IsZero() && !after.Promoted.IsZero() {
		b.note("the product is seen on the new secret: modauth takes it too")
	}
	if err != nil {
		b.note("retire refused: %s", err.Error()[strings.LastIndex(err.Error(), "needed: ")+len("needed: "):])
	} else {
		b.note("retire: old secret %s removed", short(rot.OldKeyID))
	}
	return err
}

func (b *rotationBed) secrets() []string {
	pcs, err := b.admin.AppPasswords(testkit.Ctx(b.t), b.reg.ClientID)
	if err != nil {
		b.t.Fatal(err)
	}
	var ids []string
	for _, pc := range pcs {
		ids = append(ids, pc.KeyID)
	}
	return ids
}

func short(id string) string { return id[:8] }

func TestRotationWaitsForTheProduct(t *testing.T) {
	b := newRotationBed(t)
	b.productSyncs()
	next, _ := b.rotate()
	b.sim.Clock.Advance(time.Minute)
	b.productSyncs() // still on the old secret: it must keep working

	if err := b.retire(); !errors.Is(err, appreg.ErrStillInUse) || !strings.Contains(err.Error(), "has not signed in with the new secret") {
		t.Fatalf("retire before the product switched: %v", err)
	}
	if len(b.secrets()) != 2 {
		t.Fatalf("secrets %v: the old one must stay", b.secrets())
	}

	b.sim.Clock.Advance(2 * time.Hour) // the admin enters the new secret in the product
	b.product = next.Value
	b.productSyncs()
	b.sim.Clock.Advance(5 * time.Minute)
	if err := b.retire(); !errors.Is(err, appreg.ErrStillInUse) {
		t.Fatalf("retire right after the switch: %v, want a wait for the log", err)
	}
	if cs, _ := b.db.ClientSecret("p"); cs.KeyID != next.KeyID || !cs.Created {
		t.Fatalf("modauth's secret after the switch is %s, want the new %s", cs.KeyID, next.KeyID)
	}
	b.sim.Clock.Advance(11 * time.Minute)
	b.productSyncs()
	if err := b.retire(); err != nil {
		t.Fatalf("retire once the old secret is unused: %v", err)
	}
	if ids := b.secrets(); len(ids) != 1 || ids[0] != next.KeyID {
		t.Errorf("secrets left %v, want only the new %s", ids, next.KeyID)
	}
	if _, ok, _ := b.db.Rotation("p"); ok {
		t.Error("the rotation is still recorded after retirement")
	}
	b.productSyncs() // the product never noticed
	if _, err := roles(t, b.sim, b.reg.ClientID, b.reg.Secret.Value, "https://graph.microsoft.com"); !errors.Is(err, flows.ErrInvalidSecret) {
		t.Errorf("the old secret still signs in after retirement: %v", err)
	}
	t.Log("rotation timeline:\n  " + strings.Join(b.timeline, "\n  "))
}

func TestRotationKeepsTheOldSecretWhileTheProductUsesIt(t *testing.T) {
	b := newRotationBed(t)
	next, _ := b.rotate()
	for day := range 3 {
		b.sim.Clock.Advance(24 * time.Hour)
		b.productSyncs() // the product was never given the new secret
		if err := b.retire(); !errors.Is(err, appreg.ErrStillInUse) {
			t.Fatalf("day %d: retire %v, want ErrStillInUse", day+1, err)
		}
	}
	if len(b.secrets()) != 2 {
		t.Errorf("secrets %v: the old one must stay while the product uses it", b.secrets())
	}
	// One product server switches, a second still has the old value: the
	// old secret stays for it.
	old := b.product
	b.product = next.Value
	b.productSyncs()
	b.sim.Clock.Advance(time.Minute)
	_ = b.retire() // modauth takes the new secret
	b.sim.Clock.Advance(3 * time.Minute)
	b.product = old
	b.productSyncs()
	b.sim.Clock.Advance(11 * time.Minute)
	if err := b.retire(); !errors.Is(err, appreg.ErrStillInUse) || !strings.Contains(err.Error(), "old secret too") {
		t.Errorf("retire while a server still uses the old secret: %v", err)
	}
	if len(b.secrets()) != 2 {
		t.Errorf("secrets %v: the old one must stay", b.secrets())
	}
	t.Log("rotation timeline:\n  " + strings.Join(b.timeline, "\n  "))
}

func TestRetireNeedsSightOrConfirmation(t *testing.T) {
	rot := store.Rotation{OldKeyID: "old", NewKeyID: "new"}
	now := time.Date(2026, 11, 17, 14, 0, 0, 0, time.UTC)
	if v := (appreg.Retirement{Rotation: rot, Unseen: "no monitoring app"}).Check(now); v.Retire || v.Promote || !strings.Contains(v.Why, "no monitoring app") || !strings.Contains(v.Why, "--confirmed") {
		t.Errorf("without sight: %+v", v)
	}
	if v := (appreg.Retirement{Rotation: rot, Confirmed: true}).Check(now); !v.Retire || !v.Promote || v.By != store.SwitchedByAdmin {
		t.Errorf("an admin's confirmation must be enough: %+v", v)
	}
}

func TestRotationThatCannotProveKeepsTheOldSecret(t *testing.T) {
	b := newRotationBed(t)
	saved := false
	_, _, err := appreg.Rotation{
		Graph: b.admin, ClientID: b.reg.ClientID, Current: *b.reg.Secret, Now: b.sim.Clock.Now,
		Prove: func(context.Context, store.Secret) error { return errors.New("refused") },
		Save:  func(store.ClientSecret, store.Rotation) error { saved = true; return nil },
	}.Run(testkit.Ctx(t))
	if err == nil || saved {
		t.Fatalf("err %v saved %v", err, saved)
	}
	if ids := b.secrets(); len(ids) != 1 || ids[0] != b.reg.Secret.KeyID {
		t.Errorf("secrets after a failed rotation: %v", ids)
	}
}

func TestRotationNamesTheMissingRight(t *testing.T) {
	b := newRotationBed(t)
	// The product's app on its own token, without Application.ReadWrite.OwnedBy.
	tok, err := flowsFor(t, b.sim, b.reg.ClientID, b.product).ClientCredentials(testkit.Ctx(t), "https://graph.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	own := &exchange.Graph{Host: b.sim.URL, HTTP: b.sim.HTTPClient(), Token: func(context.Context) (store.Secret, error) { return tok.AccessToken, nil }}
	_, _, err = appreg.Rotation{Graph: own, ClientID: b.reg.ClientID, Current: *b.reg.Secret, Now: b.sim.Clock.Now,
		Prove: func(context.Context, store.Secret) error { return nil }, Save: func(store.ClientSecret, store.Rotation) error { return nil }}.Run(testkit.Ctx(t))
	if err == nil || !strings.Contains(err.Error(), "Application.ReadWrite.OwnedBy") || !strings.Contains(err.Error(), "--admin") {
		t.Errorf("err %v: must name the right and the way out", err)
	}
}
