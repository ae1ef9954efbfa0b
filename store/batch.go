package store

import (
	"fmt"
)

// Batch is what a sweep over many users writes at once: tokens, jobs,
// sync-ids and events of one profile, committed in one transaction, so a
// sweep costs a few transactions rather than several per user.
type Batch struct {
	Profile string
	Users   []User           // written first: a sign-in's user and its token land together
	Tokens  map[string]Token // by user key
	Jobs    map[string]Job   // by user key
	Folders []FolderChange
	Events  []Event
}

// FolderChange is a sync's effect on one folder of a user's mailbox.
type FolderChange struct {
	User   string
	Folder string
	// Reset drops every stored item of the folder first: a full resync.
	Reset  bool
	Put    []Item
	Delete []string
}

// userKeys lists the users the batch writes anything of, each once.
func (b *Batch) userKeys() []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, u := range b.Users {
		add(u.Key)
	}
	for k := range b.Tokens {
		add(k)
	}
	for k := range b.Jobs {
		add(k)
	}
	for _, f := range b.Folders {
		add(f.User)
	}
	return out
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Users) == 0 && len(b.Tokens) == 0 && len(b.Jobs) == 0 && len(b.Folders) == 0 && len(b.Events) == 0
}

// Apply commits the batch in one transaction: all of it, or nothing.
func (db *DB) Apply(b Batch) error {
	if b.Empty() {
		return nil
	}
	for _, u := range b.Users {
		if err := validName("user key", u.Key); err != nil {
			return fmt.Errorf("profile %q: %w", b.Profile, err)
		}
	}
	return db.update(func(tx kvTx) error {
		if p, ok := tx.(prefetcher); ok {
			p.prefetchUsers(b.Profile, b.userKeys())
		}
		if err := putUsers(tx, b.Profile, b.Users); err != nil {
			return err
		}
		for key, t := range b.Tokens {
			if err := db.putToken(tx, b.Profile, key, t); err != nil {
				return err
			}
		}
		if err := putJobs(tx, b.Profile, b.Jobs); err != nil {
			return err
		}
		for _, f := range b.Folders {
			if f.Reset {
				if err := resetFolder(tx, b.Profile, f.User, f.Folder); err != nil {
					return err
				}
			}
			if err := putItems(tx, b.Profile, f.User, f.Folder, f.Put); err != nil {
				return err
			}
			if err := deleteItems(tx, b.Profile, f.User, f.Folder, f.Delete); err != nil {
				return err
			}
		}
		_, err := db.appendEvents(tx, b.Events)
		return err
	})
}

// resetFolder drops a folder's items.
func resetFolder(tx kvTx, profileID, userKey, folder string) error {
	ib, err := profileSub(tx, profileID, bktItems)
	if err != nil {
		return err
	}
	ub := ib.Bucket([]byte(userKey))
	if ub == nil || ub.Bucket([]byte(folder)) == nil {
		return nil
	}
	if err := ub.DeleteBucket([]byte(folder)); err != nil {
		return fmt.Errorf("reset folder %q of user %q in profile %q: %w", folder, userKey, profileID, err)
	}
	return nil
}
