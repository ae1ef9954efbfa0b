//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// onResize calls fn whenever the terminal changes size, until stop.
func onResize(fn func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		for range ch {
			fn()
		}
	}()
	return func() { signal.Stop(ch); close(ch) }
}
