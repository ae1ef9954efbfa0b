package common

import tea "charm.land/bubbletea/v2"

// Window is the one virtualised table every list of the interface scrolls
// with (the dashboard's users, the users step, the consent step): a cursor
// over n rows of which Rows fit on screen from Offset. Only the rows in
// view are drawn, so a table of 100,000 users costs what one screen does.
// The screens keep their own columns and cells; the window keeps the
// cursor in view.
type Window struct {
	Cursor, Offset, Rows int
}

// Fit gives the window room for rows of n rows and scrolls the cursor into
// view. Screens call it from SetSize and Update, never from View.
func (w *Window) Fit(rows, n int) {
	w.Rows = max(rows, 1)
	w.Cursor = max(min(w.Cursor, n-1), 0)
	if w.Cursor < w.Offset {
		w.Offset = w.Cursor
	}
	if w.Cursor >= w.Offset+w.Rows {
		w.Offset = w.Cursor - w.Rows + 1
	}
	w.Offset = max(min(w.Offset, n-w.Rows), 0)
}

// Move applies a cursor key (↑↓, page, home, end) over n rows; it reports
// whether k was one. Fit then scrolls.
func (w *Window) Move(k tea.KeyPressMsg, n int) bool {
	var ok bool
	w.Cursor, ok = MoveCursor(k, w.Cursor, n, w.Rows)
	return ok
}

// Span is the rows in view, [from, to), of n.
func (w Window) Span(n int) (from, to int) {
	return min(w.Offset, n), min(w.Offset+w.Rows, n)
}
