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
		have, err := e.storedItems(c.prof.ID, w, folder, state != "")
		if err != nil {
			return err
		}
		fc, next, err := ewsFolder(ctx, x, imp, w.user.Key, folder, state, have)
		if errors.Is(err, exchange.ErrResyncRequired) {
			have.reset()
			fc, next, err = ewsFolder(ctx, x, imp, w.user.Key, folder, "", have)
		}
		if err != nil {
			return fmt.Errorf("sync %s over EWS: %w", folder, err)
		}
		res.folders = append(res.folders, fc)
		res.checkpoints[folder], res.counts[folder] = next, have.n
	}
	return nil
}

// ewsFolder pages SyncFolderItems until the last item is in range.
func ewsFolder(ctx context.Context, x *exchange.EWS, imp *exchange.Impersonation, user, folder, state string, have *storedSet) (store.FolderChange, string, error) {
	fc := store.FolderChange{User: user, Folder: folder, Reset: state == ""}
	for {
		page, err := x.SyncFolderItems(ctx, imp, folder, state, ewsPage)
		if err != nil {
			return fc, "", err
		}
		var changes []itemChange
		for _, ch := range page.Changes {
			switch ch.Kind {
			case "Delete":
				changes = append(changes, itemChange{item: store.Item{ID: ch.ID}, removed: true})
			case "Create", "Update":
				changes = append(changes, itemChange{item: store.Item{ID: ch.ID, ChangeKey: ch.ChangeKey}})
			}
		}
		if err := have.apply(&fc, changes); err != nil {
			return fc, "", err
		}
		state = page.SyncState
		if page.Last {
			return fc, state, nil
		}
	}
}
