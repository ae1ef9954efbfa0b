package common

import (
	"context"
	"testing"
	"time"
)

func TestTaskDropsAnswersOfAStoppedRun(t *testing.T) {
	var task Task
	if task.Running() || task.Current(task.ID()) {
		t.Fatal("the zero Task must be stopped")
	}
	if task.Context().Err() == nil {
		t.Error("a Task never started gives a cancelled context")
	}

	first, id1 := task.Start(nil)
	if !task.Running() || !task.Current(id1) || task.ID() != id1 || task.Context() != first {
		t.Fatalf("after Start: running %v, current %v", task.Running(), task.Current(id1))
	}
	second, id2 := task.Start(context.Background())
	if first.Err() == nil {
		t.Error("Start must cancel the run it replaces")
	}
	if task.Current(id1) || !task.Current(id2) {
		t.Errorf("after a second Start: current(first) %v, current(second) %v", task.Current(id1), task.Current(id2))
	}

	task.Stop()
	if second.Err() == nil || task.Context().Err() == nil {
		t.Error("Stop must cancel the run")
	}
	if task.Running() || task.Current(id2) || task.Current(task.ID()) {
		t.Error("after Stop no id is current")
	}
	task.Stop() // stopping twice is harmless
}

func TestTaskStartTimeoutSetsADeadline(t *testing.T) {
	var task Task
	parent, cancel := context.WithCancel(context.Background())
	ctx, _ := task.StartTimeout(parent, time.Hour)
	if _, ok := ctx.Deadline(); !ok {
		t.Error("StartTimeout gives no deadline")
	}
	cancel()
	if ctx.Err() == nil {
		t.Error("the run must end with its parent")
	}
	plain, _ := task.Start(context.Background())
	if _, ok := plain.Deadline(); ok {
		t.Error("Start gives a deadline")
	}
}
