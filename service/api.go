// Package service is modauth's local API: `modauth monitor` owns the data
// directory (bbolt lets one process hold the database) and serves it on a
// Unix socket there, and the other commands attach to it instead of
// opening the file. Plain HTTP and JSON, versioned under /v1/.
package service

import (
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
)

// APIVersion is the version of the socket's API, the path prefix /v1/.
const APIVersion = "1"

// SocketName is the socket's file name in the data directory.
const SocketName = "modauth.sock"

// SocketPath is the socket of the service owning the data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// Status is the answer of GET /v1/status.
type Status struct {
	Version   string    `json:"version"`
	PID       int       `json:"pid"`
	DataDir   string    `json:"dataDir"`
	Started   time.Time `json:"started"`
	LastSweep time.Time `json:"lastSweep,omitzero"`
}

// RunRequest is the body of POST /v1/run: one modauth command, as the
// words of its path ("users", "export") and its flags and arguments; the
// client's working directory, where relative file names are found (the
// service's is another); and what was piped to standard input, if the
// command reads it.
type RunRequest struct {
	Command []string `json:"command"`
	Args    []string `json:"args"`
	Dir     string   `json:"dir"`
	Stdin   []byte   `json:"stdin,omitempty"`
}

// Frame is one line of POST /v1/run's NDJSON answer: output as written on
// a stream, then one last frame with the exit code and, when the command
// failed with an error of its own, its message (what the command line
// prints after "modauth: ").
type Frame struct {
	Stream string `json:"stream,omitempty"` // stdout or stderr
	Data   string `json:"data,omitempty"`
	Exit   *int   `json:"exit,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Commands are those the service runs for clients: the ones an operator
// runs while the monitor runs. The wizard and the dashboard attach in
// their own way; `monitor` is the service; `demo` has its own store.
var Commands = []string{
	"check",
	"doctor",
	"report no-sync-id",
	"secret retire",
	"secret rotate",
	"users export",
	"users import",
	"users resolve",
}

// Allowed reports whether the command path (without "modauth") is one the
// service runs.
func Allowed(command []string) bool {
	return slices.Contains(Commands, strings.Join(command, " "))
}

// SyncRequest is the body of POST /v1/profiles/{id}/sync: the users'
// keys to sync now.
type SyncRequest struct {
	Keys []string `json:"keys"`
}

// SyncResult is the answer of POST /v1/profiles/{id}/sync: what the sync
// did (monitor.Summary).
type SyncResult struct {
	Users      int                    `json:"users"`
	States     map[store.JobState]int `json:"states"`
	Ran        map[store.JobState]int `json:"ran"`
	DurationMS int64                  `json:"durationMs"`
}

func syncResult(s monitor.Summary) SyncResult {
	return SyncResult{Users: s.Users, States: s.States, Ran: s.Ran, DurationMS: s.Duration.Milliseconds()}
}
