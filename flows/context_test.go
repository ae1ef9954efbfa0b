package flows_test

import (
	"context"
	"testing"
	"time"
)

var (
	errCanceled = context.Canceled
	errDeadline = context.DeadlineExceeded
)

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return c, cancel
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c, cancel
}
