package m365sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Mailbox data: the calendar, contacts and To Do tasks that Graph delta
// queries (graph_mailbox.go) and EWS (ews.go) sync. Each mailbox is made
// on first use, from the seed and the user's object ID, so a simulator of
// 10,000 users starts at once and the same seed gives the same items.

// Folder names a mailbox folder.
type Folder string

// The folders of every mailbox. The inbox stays empty: only EWS shows it.
const (
	FolderCalendar Folder = "calendar"
	FolderContacts Folder = "contacts"
	FolderTasks    Folder = "tasks"
	FolderInbox    Folder = "inbox"
)

var mailFolders = []Folder{FolderInbox, FolderCalendar, FolderContacts, FolderTasks}

// mailState is the simulator's mailbox and EWS state, under its own lock.
type mailState struct {
	mu         sync.Mutex
	born       time.Time // seeded items are dated relative to the simulator's start
	boxes      map[string]*Mailbox
	onPrem     *onPremEWS
	formsLogin bool
	ntlm       map[string][8]byte // connection -> the NTLM challenge it was sent
	fullAccess map[string]bool    // mailbox OID + " " + delegate OID -> FullAccess
}

// Mailbox is one user's mailbox data. Its methods change it as the user
// would in Outlook; they are safe for concurrent use.
type Mailbox struct {
	clock *Clock

	mu       sync.Mutex
	rng      *mrand.Rand
	seq      uint64 // bumped by every change; items remember the seq of theirs
	epoch    int    // bumped by ExpireDeltaTokens; sync states carry it
	folders  map[Folder]*mailFolder
	inflight map[string]int // app ID -> Graph requests being served
}

type mailFolder struct {
	id, changeKey string
	items         []*mailItem // in creation order, deleted ones kept as tombstones
	byID          map[string]*mailItem
}

type mailItem struct {
	id, changeKey     string
	title             string    // subject, display name or task title
	given, sur, email string    // contacts
	start             time.Time // events
	created, modified time.Time
	rev               int
	createdSeq, seq   uint64
	deleted           bool
}

// Mailbox returns the user's mailbox, or nil for a user without one.
func (s *Sim) Mailbox(u *User) *Mailbox {
	if u == nil || !u.HasMailbox {
		return nil
	}
	s.mail.mu.Lock()
	defer s.mail.mu.Unlock()
	if m := s.mail.boxes[u.ObjectID]; m != nil {
		return m
	}
	if s.mail.boxes == nil {
		s.mail.boxes = map[string]*Mailbox{}
	}
	m := newMailbox(s.opts.Seed, u.ObjectID, s.mail.born, s.Clock)
	s.mail.boxes[u.ObjectID] = m
	return m
}

// ExpireDeltaTokens makes every sync state of the user's mailbox stale:
// stored Graph deltaLinks (and nextLinks) answer 410 Gone with
// SyncStateNotFound, EWS SyncStates ErrorInvalidSyncStateData. A sync
// started afresh works.
func (s *Sim) ExpireDeltaTokens(u *User) {
	if m := s.Mailbox(u); m != nil {
		m.mu.Lock()
		m.epoch++
		m.mu.Unlock()
	}
}

// ThrottleMailbox makes the next n Graph requests for the user's mailbox
// answer 429 ApplicationThrottled with Retry-After, whichever app sends them.
func (s *Sim) ThrottleMailbox(u *User, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{match: "#mailbox:" + u.ObjectID, n: n, status: 429, retryAfter: retryAfter})
}

var (
	eventSubjects = []string{"Team meeting", "Project review", "1:1", "Customer call", "Lunch", "Planning", "Dentist", "Training", "Board meeting", "Sprint demo"}
	taskTitles    = []string{"Send invoice", "Call back supplier", "Review contract", "Book travel", "Update forecast", "Renew certificate", "Order toner", "Prepare agenda"}
)

// newMailbox fills a mailbox from the seed and the user's object ID: 5–40
// events starting between 60 days before and 400 days after the
// simulator's start, 5–40 contacts, 0–20 tasks.
func newMailbox(seed uint64, userID string, born time.Time, clock *Clock) *Mailbox {
	h := fnv.New64a()
	h.Write([]byte(userID))
	m := &Mailbox{
		clock: clock, seq: 1,
		rng:      mrand.New(mrand.NewPCG(seed, h.Sum64())),
		folders:  map[Folder]*mailFolder{},
		inflight: map[string]int{},
	}
	for _, f := range mailFolders {
		id := m.newID()
		m.folders[f] = &mailFolder{id: id, changeKey: changeKey(id, 0), byID: map[string]*mailItem{}}
	}
	const day = 24 * time.Hour
	base := born.UTC().Truncate(day)
	counts := []struct {
		f Folder
		n int
	}{{FolderCalendar, 5 + m.rng.IntN(36)}, {FolderContacts, 5 + m.rng.IntN(36)}, {FolderTasks, m.rng.IntN(21)}}
	for _, c := range counts {
		for range c.n {
			modified := base.Add(-time.Duration(m.rng.IntN(365*24*60)) * time.Minute)
			it := m.newItem(c.f, modified.Add(-time.Duration(m.rng.IntN(30*24))*time.Hour), modified)
			if c.f == FolderCalendar {
				it.start = base.Add(time.Duration(m.rng.IntN(461)-60)*day + time.Duration(14+m.rng.IntN(20))*30*time.Minute)
			}
		}
	}
	return m
}

// newID draws an item or folder ID shaped like Outlook's: long, opaque,
// URL-safe base64. Callers hold m.mu (or own m alone).
func (m *Mailbox) newID() string {
	b := make([]byte, 35)
	for i := range b {
		b[i] = byte(m.rng.UintN(256))
	}
	return "AAMkA" + base64.URLEncoding.EncodeToString(b)
}

// changeKey derives an item's change key from its ID and revision.
func changeKey(id string, rev int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s#%d", id, rev)))
	return "CQAAABYAAAA" + base64.StdEncoding.EncodeToString(sum[:15])
}

// newItem adds an item at the current seq. Callers hold m.mu.
func (m *Mailbox) newItem(f Folder, created, modified time.Time) *mailItem {
	it := &mailItem{id: m.newID(), created: created, modified: modified, createdSeq: m.seq, seq: m.seq}
	it.changeKey = changeKey(it.id, 0)
	switch f {
	case FolderCalendar:
		it.title = eventSubjects[m.rng.IntN(len(eventSubjects))]
	case FolderContacts:
		it.given, it.sur = givenNames[m.rng.IntN(len(givenNames))], surnames[m.rng.IntN(len(surnames))]
		it.title, it.email = it.given+" "+it.sur, asciiLocal(it.given+"."+it.sur)+"@example.org"
	case FolderTasks:
		it.title = taskTitles[m.rng.IntN(len(taskTitles))]
	}
	fo := m.folders[f]
	fo.items = append(fo.items, it)
	fo.byID[it.id] = it
	return it
}

func (m *Mailbox) folder(f Folder) *mailFolder {
	fo := m.folders[f]
	if fo == nil {
		panic(fmt.Sprintf("m365sim: unknown folder %q", f))
	}
	return fo
}

// Add creates an item in the folder, modified now, and returns its ID.
// New events start a day from now, inside any sensible sync window.
func (m *Mailbox) Add(f Folder) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.folder(f)
	m.seq++
	now := m.clock.Now()
	it := m.newItem(f, now, now)
	if f == FolderCalendar {
		it.start = now.UTC().Add(24 * time.Hour).Truncate(time.Hour)
	}
	return it.id
}

// Touch updates an item as an edit does: a new change key and
// lastModifiedDateTime. It reports whether the item exists.
func (m *Mailbox) Touch(f Folder, id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.folder(f).byID[id]
	if it == nil || it.deleted {
		return false
	}
	m.seq++
	it.rev++
	it.changeKey, it.modified, it.seq = changeKey(it.id, it.rev), m.clock.Now(), m.seq
	return true
}

// Delete removes an item. It reports whether the item existed.
func (m *Mailbox) Delete(f Folder, id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.folder(f).byID[id]
	if it == nil || it.deleted {
		return false
	}
	m.seq++
	it.deleted, it.modified, it.seq = true, m.clock.Now(), m.seq
	return true
}

// Count is the number of items in the folder.
func (m *Mailbox) Count(f Folder) int { return len(m.IDs(f)) }

// IDs lists the folder's item IDs, oldest first. Graph and EWS use the
// same IDs here (the real services encode them differently).
func (m *Mailbox) IDs(f Folder) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, it := range m.folder(f).items {
		if !it.deleted {
			ids = append(ids, it.id)
		}
	}
	return ids
}

// EventsBetween counts the calendar's events starting in [from, to): what
// a calendarView delta over that window returns on its first sync.
func (m *Mailbox) EventsBetween(from, to time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, it := range m.folders[FolderCalendar].items {
		if !it.deleted && !it.start.Before(from) && it.start.Before(to) {
			n++
		}
	}
	return n
}

// FolderID is the folder's real ID, which Graph and EWS accept beside
// the well-known names.
func (m *Mailbox) FolderID(f Folder) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.folder(f).id
}

// folderByID finds a folder by its ID. Callers hold m.mu.
func (m *Mailbox) folderByID(id string) (Folder, bool) {
	for f, fo := range m.folders {
		if fo.id == id {
			return f, true
		}
	}
	return "", false
}

// A cursor is a sync position: a Graph skiptoken or deltatoken, or an
// EWS SyncState, all encoded the same opaque way. A round syncs the
// changes with since < seq <= upto, walking the folder from pos.
type cursor struct {
	Kind   string `json:"k"` // "graph", "ews" or "hierarchy": one is no use as another
	User   string `json:"u"`
	Folder Folder `json:"f,omitempty"`
	Epoch  int    `json:"e"`
	Since  uint64 `json:"s"`           // 0: first sync
	Upto   uint64 `json:"t,omitempty"` // 0: round not started
	Pos    int    `json:"p,omitempty"`
	From   int64  `json:"a,omitempty"` // calendar window, Unix seconds
	To     int64  `json:"b,omitempty"`
	Page   int    `json:"n,omitempty"` // Graph page size asked for
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.User == "" {
		return cursor{}, false
	}
	return c, true
}

// Kinds of change.
const (
	changeCreate = "Create"
	changeUpdate = "Update"
	changeDelete = "Delete"
)

type change struct {
	kind string
	item mailItem // a copy: answers are built after m.mu is released
}

// changes returns up to max changes from cur, the cursor to go on from,
// and whether the round is complete. A first sync lists the live items;
// later rounds what was created, updated or deleted since. Events outside
// the window (when one is given) are left out, and show as deleted when
// they change, as on Graph. ok is false for a cursor of an earlier epoch
// (or a forged one).
func (m *Mailbox) changes(cur cursor, max int, window func(time.Time) bool) (out []change, next cursor, done, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fo := m.folders[cur.Folder]
	if cur.Epoch != m.epoch || fo == nil || cur.Pos < 0 {
		return nil, cur, false, false
	}
	if cur.Upto == 0 {
		cur.Upto = m.seq
	}
	items := fo.items
	i := cur.Pos
	for ; i < len(items) && len(out) < max; i++ {
		it := items[i]
		if it.seq <= cur.Since || it.seq > cur.Upto {
			continue // unchanged, or changed after the round began: next round
		}
		in := window == nil || window(it.start)
		switch {
		case cur.Since == 0:
			if !it.deleted && in {
				out = append(out, change{changeCreate, *it})
			}
		case it.deleted || !in:
			if it.createdSeq <= cur.Since { // not created and deleted since
				out = append(out, change{changeDelete, *it})
			}
		case it.createdSeq > cur.Since:
			out = append(out, change{changeCreate, *it})
		default:
			out = append(out, change{changeUpdate, *it})
		}
	}
	next = cur
	next.Pos = i
	if i >= len(items) {
		next.Since, next.Upto, next.Pos, done = cur.Upto, 0, 0, true
	}
	return out, next, done, true
}

// epochNow is the epoch new sync states carry.
func (m *Mailbox) epochNow() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch
}

// enter admits a Graph request of app to the mailbox, unless four are
// already being served: Outlook's limit per app and mailbox (microsoft.md
// §6.2). The caller calls release when done.
func (m *Mailbox) enter(appID string) (release func(), e *graphError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight[appID] >= mailboxConcurrency {
		e := gerr(429, "ApplicationThrottled", "MailboxConcurrency limit exceeded")
		e.retryAfter = time.Second
		return nil, e
	}
	m.inflight[appID]++
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.inflight[appID]--; m.inflight[appID] == 0 {
			delete(m.inflight, appID)
		}
	}, nil
}

const mailboxConcurrency = 4
