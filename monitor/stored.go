package monitor

import "github.com/modauth/modauth/store"

// storedSet is which items of a folder the store holds, and how many, as a
// sync changes them. A delta sync from a checkpoint whose count the job
// holds looks up only the IDs its changes name: reading every stored item
// of every user each sweep cost a delta sweep a seventh of its CPU, and
// read every page of the items.
type storedSet struct {
	known map[string]bool // IDs looked up or changed: whether stored
	n     int             // how many items are stored
	// complete: known has every stored ID, so an ID it lacks is not stored.
	complete bool
	lookup   func(ids []string) (map[string]bool, error)
}

// storedItems returns the folder's set for a sync: empty when the folder
// starts over (keep false), else looked up as the sync goes when the job
// counted the folder's items, else read whole.
func (e *Engine) storedItems(profileID string, w *work, folder string, keep bool) (*storedSet, error) {
	if !keep {
		return &storedSet{known: map[string]bool{}, complete: true}, nil
	}
	if n, ok := w.job.Counts[folder]; ok {
		return &storedSet{known: map[string]bool{}, n: n, lookup: func(ids []string) (map[string]bool, error) {
			return e.db.StoredItems(profileID, w.user.Key, folder, ids)
		}}, nil
	}
	items, err := e.db.Items(profileID, w.user.Key, folder)
	if err != nil {
		return nil, err
	}
	s := &storedSet{known: make(map[string]bool, len(items)), n: len(items), complete: true}
	for _, it := range items {
		s.known[it.ID] = true
	}
	return s, nil
}

// resolve looks up, in one read, those of ids the set does not know yet.
func (s *storedSet) resolve(ids []string) error {
	if s.complete {
		return nil
	}
	var ask []string
	for _, id := range ids {
		if _, ok := s.known[id]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return nil
	}
	found, err := s.lookup(ask)
	if err != nil {
		return err
	}
	for _, id := range ask {
		s.known[id] = found[id]
	}
	return nil
}

// put records that id is stored after the sync.
func (s *storedSet) put(id string) {
	if !s.known[id] {
		s.known[id] = true
		s.n++
	}
}

// remove records that id is gone, and reports whether it was stored.
func (s *storedSet) remove(id string) bool {
	if !s.known[id] {
		return false
	}
	s.known[id] = false
	s.n--
	return true
}

// reset empties the set: the folder starts over.
func (s *storedSet) reset() {
	clear(s.known)
	s.n, s.complete = 0, true
}

// itemChange is an item a sync got, or its removal.
type itemChange struct {
	item    store.Item
	removed bool
}

// apply adds a page of changes to fc, and to the set: a removal of an item
// the store does not hold is dropped.
func (s *storedSet) apply(fc *store.FolderChange, changes []itemChange) error {
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.item.ID
	}
	if err := s.resolve(ids); err != nil {
		return err
	}
	for _, c := range changes {
		switch {
		case c.removed:
			if s.remove(c.item.ID) {
				fc.Delete = append(fc.Delete, c.item.ID)
			}
		default:
			fc.Put = append(fc.Put, c.item)
			s.put(c.item.ID)
		}
	}
	return nil
}
