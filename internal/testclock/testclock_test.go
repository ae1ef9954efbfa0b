package testclock

import (
	"testing"
	"time"
)

func TestStartDefaultsToOneInstant(t *testing.T) {
	t.Setenv(Env, "")
	if got := Start(t); !got.Equal(Default) || got.Location() != time.Local {
		t.Errorf("Start = %v, want %v in the local zone", got, Default)
	}
}

func TestStartReadsTheVariable(t *testing.T) {
	t.Setenv(Env, "2028-02-29T12:00:00+01:00")
	if got, want := Start(t), time.Date(2028, 2, 29, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Start = %v, want %v", got, want)
	}
}

func TestStartRefusesWhatItCannotRead(t *testing.T) {
	for _, v := range []string{"2028-02-29", "tomorrow", "2028-02-29T12:00:00.5Z"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(Env, v)
			ft := &fatalT{TB: t}
			func() {
				defer func() { _ = recover() }()
				Start(ft)
			}()
			if ft.msg == "" {
				t.Errorf("%s=%s was accepted", Env, v)
			}
		})
	}
}

// fatalT records Fatalf instead of ending the test.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = format
	panic("fatal")
}
