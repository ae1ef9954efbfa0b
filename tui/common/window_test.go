package common

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// The window keeps the cursor in view through moves, shrinking rooms and
// shrinking tables, and draws only the rows in view.
func TestWindow(t *testing.T) {
	var w Window
	w.Fit(5, 100_000)
	if from, to := w.Span(100_000); from != 0 || to != 5 {
		t.Fatalf("span %d-%d", from, to)
	}
	end := tea.KeyPressMsg{Code: tea.KeyEnd}
	if !w.Move(end, 100_000) {
		t.Fatal("end is a cursor key")
	}
	w.Fit(5, 100_000)
	if w.Cursor != 99_999 || w.Offset != 99_995 {
		t.Fatalf("end: cursor %d offset %d", w.Cursor, w.Offset)
	}
	w.Fit(5, 3) // the filter left three rows
	if w.Cursor != 2 || w.Offset != 0 {
		t.Fatalf("after the table shrank: cursor %d offset %d", w.Cursor, w.Offset)
	}
	if w.Move(tea.KeyPressMsg{Code: 'x', Text: "x"}, 3) {
		t.Error("x is not a cursor key")
	}
	w.Fit(1, 3) // a window of one row follows the cursor
	if from, to := w.Span(3); from != 2 || to != 3 {
		t.Errorf("one row: span %d-%d", from, to)
	}
}
