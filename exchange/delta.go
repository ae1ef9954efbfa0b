package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ErrResyncRequired means a stored delta link is no longer valid: the
// folder must be synced again from the start.
var ErrResyncRequired = errors.New("delta token expired: full resync required")

// Item is a synced item's sync-id, or its removal.
type Item struct {
	ID           string
	ChangeKey    string
	LastModified time.Time
	Removed      bool
}

type deltaItem struct {
	ID           string    `json:"id"`
	ChangeKey    string    `json:"changeKey"`
	LastModified time.Time `json:"lastModifiedDateTime"`
	Removed      *struct {
		Reason string `json:"reason"`
	} `json:"@removed"`
}

// Folders a profile syncs through Graph, and the first URL of each delta
// query. Calendar delta needs a window.
const (
	FolderCalendar = "calendar"
	FolderContacts = "contacts"
	FolderTasks    = "tasks"
)

// CalendarDelta starts a delta query over the user's primary calendar
// between from and to.
func CalendarDelta(userID string, from, to time.Time) string {
	q := url.Values{"startDateTime": {from.UTC().Format(time.RFC3339)}, "endDateTime": {to.UTC().Format(time.RFC3339)}}
	return "/users/" + url.PathEscape(userID) + "/calendarView/delta?" + q.Encode()
}

// ContactsDelta starts a delta query over a contact folder ("contacts" is
// the default one).
func ContactsDelta(userID, folderID string) string {
	return "/users/" + url.PathEscape(userID) + "/contactFolders/" + url.PathEscape(folderID) + "/contacts/delta"
}

// TasksDelta starts a delta query over a To Do list.
func TasksDelta(userID, listID string) string {
	return "/users/" + url.PathEscape(userID) + "/todo/lists/" + url.PathEscape(listID) + "/tasks/delta"
}

// DefaultTaskList finds the user's default To Do list.
func (g *Graph) DefaultTaskList(ctx context.Context, userID string) (string, error) {
	lists, err := List[struct {
		ID        string `json:"id"`
		Wellknown string `json:"wellknownListName"`
	}](ctx, g, "/users/"+url.PathEscape(userID)+"/todo/lists")
	if err != nil {
		return "", fmt.Errorf("find the task list of %s: %w", userID, err)
	}
	for _, l := range lists {
		if l.Wellknown == "defaultList" {
			return l.ID, nil
		}
	}
	if len(lists) > 0 {
		return lists[0].ID, nil
	}
	return "", fmt.Errorf("find the task list of %s: none: %w", userID, ErrNotFound)
}

// Delta runs a delta query from start (a first URL, or the deltaLink of the
// last run) to its end, handing each page's items to fn, and returns the
// deltaLink to store for the next run. A deltaLink that expired gives
// ErrResyncRequired.
func (g *Graph) Delta(ctx context.Context, start string, fn func([]Item) error) (string, error) {
	next := start
	for {
		var page struct {
			Value     []deltaItem `json:"value"`
			NextLink  string      `json:"@odata.nextLink"`
			DeltaLink string      `json:"@odata.deltaLink"`
		}
		err := g.Do(ctx, http.MethodGet, next, nil, &page)
		var ge *GraphError
		if errors.As(err, &ge) && (ge.Status == http.StatusGone || ge.Code == "SyncStateNotFound" || ge.Code == "resyncRequired") {
			return "", fmt.Errorf("%w: %v", ErrResyncRequired, err)
		}
		if err != nil {
			return "", err
		}
		items := make([]Item, len(page.Value))
		for i, v := range page.Value {
			items[i] = Item{ID: v.ID, ChangeKey: v.ChangeKey, LastModified: v.LastModified, Removed: v.Removed != nil}
		}
		if err := fn(items); err != nil {
			return "", err
		}
		switch {
		case page.NextLink != "":
			next = page.NextLink
		case page.DeltaLink != "":
			return page.DeltaLink, nil
		default:
			return "", fmt.Errorf("delta query of %s ended without a deltaLink", start)
		}
	}
}
