package m365sim

import "testing"

func TestLoopbackMatch(t *testing.T) {
	for _, c := range []struct {
		registered, got string
		want            bool
	}{
		{"http://127.0.0.1/callback", "http://127.0.0.1:51234/callback", true},
		{"http://localhost:8400/oauth/cb", "http://localhost:9000/oauth/cb", true},
		{"http://127.0.0.1/callback", "http://127.0.0.1:51234/other", false},
		{"http://127.0.0.1/callback", "http://localhost:51234/callback", false},
		{"http://127.0.0.1/callback", "https://127.0.0.1:51234/callback", false},
		{"https://app.example.com/cb", "https://app.example.com:8443/cb", false},
	} {
		if got := loopbackMatch(c.registered, c.got); got != c.want {
			t.Errorf("loopbackMatch(%q, %q) = %v, want %v", c.registered, c.got, got, c.want)
		}
	}
}
