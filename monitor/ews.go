package monitor

import (
	"context"
	"errors"
	"fmt"

	"github.com/modauth/modauth/exchange"
	"github.com/modauth/modauth/store"
)

// ewsPage is how many changes one SyncFolderItems call returns at most.
const ewsPage = 512

// syncEWS runs SyncFolderItems over the profile's folders from their
// stored SyncStates, starting over when Exchange rejects one.
func (e *Engine) syncEWS(ctx context.Context, c *profileConn, w *work, res *result) error {
	x, imp := c.EWS(w.user)
	for _, folder := range c.prof.Folders {
		state := w.job.Checkpoints[folder]
		have, err := e.storedIDs(c.prof.ID, w.user.Key, folder, state != "")
		if err != nil {
			return err
		}
		fc, next, err := ewsFolder(ctx, x, imp, w.user.Key, folder, state, have)
		if errors.Is(err, exchange.ErrResyncRequired) {
			clear(have)
			fc, next, err = ewsFolder(ctx, x, imp, w.user.Key, folder, "", have)
		}
		if err != nil {
			return fmt.Errorf("sync %s over EWS: %w", folder, err)
		}
		res.folders = append(res.folders, fc)
		res.checkpoints[folder], res.counts[folder] = next, len(have)
	}
	return nil
}

// ewsFolder pages SyncFolderItems until the last item is in range.
func ewsFolder(ctx context.Context, x *exchange.EWS, imp *exchange.Impersonation, user, folder, state string, have map[string]bool) (store.FolderChange, string, error) {
	fc := store.FolderChange{User: user, Folder: folder, Reset: state == ""}
	for {
		page, err := x.SyncFolderItems(ctx, imp, folder, state, ewsPage)
		if err != nil {
			return fc, "", err
		}
		for _, ch := range page.Changes {
			switch ch.Kind {
			case "Delete":
				if have[ch.ID] {
					fc.Delete = append(fc.Delete, ch.ID)
					delete(have, ch.ID)
				}
			case "Create", "Update":
				fc.Put = append(fc.Put, store.Item{ID: ch.ID, ChangeKey: ch.ChangeKey})
				have[ch.ID] = true
			}
		}
		state = page.SyncState
		if page.Last {
			return fc, state, nil
		}
	}
}

// storedIDs returns the IDs already stored for a folder (none when the
// folder starts over).
func (e *Engine) storedIDs(profileID, userKey, folder string, keep bool) (map[string]bool, error) {
	have := map[string]bool{}
	if !keep {
		return have, nil
	}
	items, err := e.db.Items(profileID, userKey, folder)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		have[it.ID] = true
	}
	return have, nil
}
