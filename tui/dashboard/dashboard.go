// Package dashboard is the screen after setup: one profile's users and
// their sync, the engine that sweeps them inside the program, and the
// actions on them. The frame shows it as a common.Component: it opens a
// profile with Open, sizes it with SetSize and routes messages to Update.
package dashboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/modauth/modauth/tui/common"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// Model is the dashboard: one profile's users and their sync.
//
// It keeps every user in memory once, as a slice of rows built at load.
// What the table shows (filter, search, sort) is an index slice over those
// rows, rebuilt only when the filter, the search, the sort or the data
// change; a frame renders only the rows on screen, so it costs what the
// screen shows, not what the store holds. An engine event updates one row
// and moves it within the view by binary search, without a re-sort.
type Model struct {
	profile store.Profile
	rows    []dashRow
	byKey   map[string]int // user key -> index in rows
	loadErr error

	view   []int // indices into rows: the current filter + search, sorted
	dirty  bool  // view must be rebuilt before it is used
	viewAt time.Time
	counts [dashFilters]int // rows per filter (without the search), as of countsAt
	// countsStale: rows changed since the counts were made.
	countsStale bool
	countsAt    time.Time
	// sorted is every row in the order of sorted.col and sorted.desc,
	// while valid (the rows changed since, or another sort: not).
	sorted struct {
		rows  []int
		col   dashCol
		desc  bool
		valid bool
	}
	selKey  string // the user to keep the cursor on across a rebuild
	sortCol dashCol
	desc    bool
	filter  dashFilter

	search    textinput.Model
	searching bool   // the search box is open
	query     string // the search applied to view, lower case

	win        common.Window // the table's cursor and the rows in view, from layout
	detailRoom int           // lines of the detail pane below the table, from layout
	width      int           // of the frame, from SetSize

	run      *runner // the engine, started by Open
	bar      string  // every profile's worst state, when there are two or more
	profiles int     // complete profiles, for the help bar

	detail bool
	hist   dashHistory

	// What is known of the product beside modauth's own checks, from load.
	readsProduct bool            // a monitoring app reads its sign-ins
	signInLog    store.SignInLog // where that reading stands
	rotation     *store.Rotation // a client-secret rotation under way

	// Sweeps, for the header.
	lastOK    time.Time // the last sweep that reached Microsoft
	nextSweep time.Time
	sweepErr  error // the last sweep's, nil when it reached Microsoft
	haveSweep bool  // lastOK is from a sweepMsg, not guessed from the jobs
	tickGen   int
	nowFn     func() time.Time // c.Now, for rebuilds outside a frame
}

var _ common.Component = (*Model)(nil)

// dashHistory is the detail pane's state history of one user.
type dashHistory struct {
	key     string
	loading bool
	events  []store.Event // newest first, at most dashHistoryLen
	err     error
}

const dashHistoryLen = 10

// dashRow is one user with what the table shows, read once at load.
type dashRow struct {
	user     store.User
	job      store.Job
	token    store.Token // metadata only: the refresh token is dropped at load
	hasToken bool
	counts   map[string]int // stored sync-ids per folder
	items    int            // their total
	// ckpt says what each folder's checkpoint is. The checkpoints
	// themselves are dropped at load: delta links are long URLs, 100,000
	// users' worth would be hundreds of megabytes, and never shown.
	ckpt map[string]string
	// product is what the sign-in log says of the product's own sign-ins
	// for this user.
	product store.ProductSignIns

	// Precomputed once, for sorting and searching without allocating.
	nameKey, upnKey string // lower case
	errLine         string // the last error on one line
}

func (r *dashRow) state() store.JobState {
	if r.job.State == "" {
		return store.StateNeverSynced
	}
	return r.job.State
}

// name is the display name, or the product's key for a user without one.
func (r *dashRow) name() string {
	if r.user.Name != "" {
		return r.user.Name
	}
	return r.user.Key
}

// upn is the UPN, or the account as entered while it is not resolved.
func (r *dashRow) upn() string {
	if r.user.UPN != "" {
		return r.user.UPN
	}
	return r.user.Account
}

// rtSince is when the refresh token was last used or issued; zero without one.
func (r *dashRow) rtSince() time.Time {
	if !r.hasToken {
		return time.Time{}
	}
	if !r.token.Refreshed.IsZero() {
		return r.token.Refreshed
	}
	return r.token.Issued
}

// newDashRow fills the precomputed fields.
func newDashRow(u store.User, j store.Job, t store.Token, hasToken bool, counts map[string]int) dashRow {
	t.RefreshToken = "" // the table never needs it; don't keep it around
	r := dashRow{user: u, job: j, token: t, hasToken: hasToken, counts: counts}
	for _, n := range counts {
		r.items += n
	}
	if len(j.Checkpoints) > 0 {
		r.ckpt = make(map[string]string, len(j.Checkpoints))
		for f, v := range j.Checkpoints {
			r.ckpt[f] = dashCheckpoint(v)
		}
		r.job.Checkpoints = nil
	}
	r.nameKey = strings.ToLower(r.name())
	r.upnKey = strings.ToLower(r.upn())
	if j.LastError != nil {
		r.errLine = strings.Join(strings.Fields(j.LastError.Message), " ")
	}
	return r
}

// Messages the dashboard handles.
type (
	// jobEventMsg is one engine change: a state event with the user's
	// row as the engine recorded it, applied without reading the store.
	jobEventMsg struct{ ch monitor.Change }
	// sweepMsg tells when the last sweep ended, when the next one starts
	// and whether Microsoft could be reached.
	sweepMsg struct {
		at   time.Time
		next time.Time
		err  error
	}
	// TickMsg redraws the countdowns once a second.
	TickMsg struct{ gen int }
	// dashHistoryMsg carries a user's state history for the detail pane.
	dashHistoryMsg struct {
		key    string
		events []store.Event
		err    error
	}
)

var dashKeys = struct {
	Move                                                              key.Binding
	Detail, Close, Search, Keep, Clear                                key.Binding
	Sort, Reverse, SortHelp                                           key.Binding
	All, Failing, NoSyncID, SignIn, Expiring, ProductFailing, Filters key.Binding
}{
	Move:           key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑↓", "move")),
	Detail:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
	Close:          key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("esc", "close")),
	Search:         key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
	Keep:           key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep")),
	Clear:          key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
	Sort:           key.NewBinding(key.WithKeys("s")),
	Reverse:        key.NewBinding(key.WithKeys("S")),
	SortHelp:       key.NewBinding(key.WithKeys("s", "S"), key.WithHelp("s/S", "sort")),
	All:            key.NewBinding(key.WithKeys("1"), key.WithHelp("1", "all users")),
	Failing:        key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "failing")),
	NoSyncID:       key.NewBinding(key.WithKeys("3"), key.WithHelp("3", "no sync-id")),
	SignIn:         key.NewBinding(key.WithKeys("4"), key.WithHelp("4", "sign-in needed")),
	Expiring:       key.NewBinding(key.WithKeys("5"), key.WithHelp("5", "expiring")),
	ProductFailing: key.NewBinding(key.WithKeys("6"), key.WithHelp("6", "product failing")),
	Filters:        key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6"), key.WithHelp("1-6", "filter")),
}

// New makes an empty dashboard; Open shows a profile in it.
func New(c *common.Context) *Model { return newDashboardRows(c, nil) }

// newDashboardRows builds a dashboard on rows already in memory: the
// benchmark's 100,000 users, without a store.
func newDashboardRows(c *common.Context, rows []dashRow) *Model {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = "name or UPN"
	in.CharLimit = 128
	styles := in.Styles()
	styles.Cursor.Blink = false // a steady cursor: no redraws over SSH
	in.SetStyles(styles)
	d := &Model{profile: c.Profile, search: in, width: c.Width, sortCol: colName, nowFn: c.Now}
	d.setRows(rows)
	return d
}

func (d *Model) setRows(rows []dashRow) {
	d.rows, d.countsStale, d.sorted.valid = rows, true, false
	d.byKey = make(map[string]int, len(rows))
	for i := range rows {
		d.byKey[rows[i].user.Key] = i
	}
	// Until a sweepMsg tells, the last sweep that reached Microsoft is
	// taken to be the newest success.
	for i := range rows {
		if d.haveSweep {
			break
		}
		if t := rows[i].job.LastSuccess; t.After(d.lastOK) {
			d.lastOK = t
		}
	}
	d.dirty = true
}

// load reads every row of the shown profile from the store: users, jobs,
// token metadata and item counts, one read each, whatever the number of
// users.
func (d *Model) load(c *common.Context) error {
	if c.DB == nil || d.profile.ID == "" {
		d.setRows(nil)
		return nil
	}
	id := d.profile.ID
	// A record that does not decode costs its user, shown as damaged with
	// the way out, never the whole screen.
	users, damagedUsers, err := c.DB.UsersAndDamaged(id)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	jobs, damagedJobs, err := c.DB.JobsAndDamaged(id)
	if err != nil {
		return fmt.Errorf("read sync jobs: %w", err)
	}
	damaged := func(err error) store.Job {
		return store.Job{State: store.StateDamaged, LastError: &store.LastError{Message: common.FirstLine(err)}}
	}
	for key, err := range damagedJobs {
		jobs[key] = damaged(err)
	}
	for key, err := range damagedUsers {
		users = append(users, store.User{Key: key, Name: key + " (damaged record)"})
		if _, ok := jobs[key]; !ok {
			jobs[key] = damaged(err)
		}
	}
	tokens, err := c.DB.TokenMeta(id)
	if err != nil {
		return fmt.Errorf("read tokens: %w", err)
	}
	counts, err := c.DB.ItemCounts(id)
	if err != nil {
		return fmt.Errorf("count items: %w", err)
	}
	product, err := d.loadProduct(c)
	if err != nil {
		return err
	}
	rows := make([]dashRow, len(users))
	for i, u := range users {
		t, hasToken := tokens[u.Key]
		rows[i] = newDashRow(u, jobs[u.Key], t, hasToken, counts[u.Key])
		rows[i].product = product[u.Key]
	}
	d.setRows(rows)
	return nil
}

// reload re-reads everything from the store, after a sweep or an action;
// the filter, search, sort and the user under the cursor stay.
func (d *Model) reload(c *common.Context) tea.Cmd {
	if c.DB == nil {
		return nil // rows made in memory (the benchmark's) stay
	}
	if u, ok := d.Selected(); ok {
		d.selKey = u.Key
	}
	if err := d.load(c); err != nil {
		return common.ErrCmd(err)
	}
	if d.detail && d.hist.key != "" {
		return d.loadHistory(c, d.hist.key)
	}
	return nil
}

// Reload re-reads the profile's rows and what is known of the product.
func (d *Model) Reload(c *common.Context) tea.Cmd { return d.reload(c) }

// Init starts the countdowns' tick and reports a failed load.
func (d *Model) Init(c *common.Context) tea.Cmd {
	d.tickGen++
	cmds := []tea.Cmd{dashTick(d.tickGen)}
	if d.loadErr != nil {
		cmds = append(cmds, common.ErrCmd(d.loadErr))
		d.loadErr = nil
	}
	return tea.Batch(cmds...)
}

// dashTick redraws the header's countdowns every second. A later Init
// starts a new generation, and the old tick stops re-arming.
func dashTick(gen int) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return TickMsg{gen} })
}

// Modal is true while the search box is open: every key is typed into
// it. The detail pane is not modal: the actions work on its user.
func (d *Model) Modal() bool { return d.searching }

// Detail reports whether the detail pane is open.
func (d *Model) Detail() bool { return d.detail }

// tableKeys are the table's bindings in the help bar, by what is open.
func (d *Model) tableKeys() common.KeyMap {
	k := dashKeys
	switch {
	case d.searching:
		return common.KeyMap{k.Keep, k.Clear, k.Move}
	case d.detail:
		return common.KeyMap{k.Close, k.Move, k.Search, k.Filters}
	}
	return common.KeyMap{k.Detail, k.Search, k.Filters, k.SortHelp, k.Move}
}

// Selected is the user under the cursor, for actions.
func (d *Model) Selected() (store.User, bool) {
	i := d.selectedRow()
	if i < 0 {
		return store.User{}, false
	}
	return d.rows[i].user, true
}

// selectedRow is the row index under the cursor, or -1.
func (d *Model) selectedRow() int {
	d.ensureView()
	if d.win.Cursor < 0 || d.win.Cursor >= len(d.view) {
		return -1
	}
	return d.view[d.win.Cursor]
}

// Rows are the users of the current view (filter, search and sort), in
// order, as an export writes them.
func (d *Model) Rows() []store.User {
	d.ensureView()
	out := make([]store.User, len(d.view))
	for i, r := range d.view {
		out[i] = d.rows[r].user
	}
	return out
}

// dashLevel is how urgent a countdown is.
type dashLevel int

const (
	levelNormal   dashLevel = iota
	levelWarn               // 30 days or less
	levelWarnBold           // 14 days or less
	levelError              // 7 days or less, or expired
)
