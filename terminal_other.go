//go:build !unix

package main

// onResize: no resize signal here; the first size stays.
func onResize(func()) (stop func()) { return func() {} }
