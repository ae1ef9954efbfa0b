package main

import "runtime"

// isDesktopOS: macOS and Windows always have a browser to hand.
func isDesktopOS() bool { return runtime.GOOS == "darwin" || runtime.GOOS == "windows" }
