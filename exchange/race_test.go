//go:build race

package exchange

// raceDetector: the race detector's sync.Pool drops items on purpose, so
// allocation figures mean nothing under -race.
const raceDetector = true
