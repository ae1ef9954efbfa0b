package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretHint(t *testing.T) {
	for in, want := range map[Secret]string{
		"":                     "",
		"short":                mask,
		"abcdefgh":             "abc" + mask,
		"Xy7~long-client-secr": "Xy7" + mask,
	} {
		if got := in.Hint(); got != want {
			t.Errorf("Hint of a %d-char secret = %q, want %q", len(in), got, want)
		}
	}
}

func TestSecretMaskedEverywhere(t *testing.T) {
	const value = "s3cr3t-VALUE"
	s := Secret(value)
	if s.Reveal() != value || s.IsZero() || !Secret("").IsZero() {
		t.Fatal("Reveal/IsZero broken")
	}
	type holder struct {
		S Secret
		P *Secret
	}
	h := holder{S: s, P: &s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T %v"} {
		for _, arg := range []any{s, &s, h, &h, []Secret{s}, map[string]Secret{"k": s}} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(out, value) || strings.Contains(out, fmt.Sprintf("%x", value)) {
				t.Errorf("Sprintf(%q, %T) = %q leaks the secret", verb, arg, out)
			}
		}
	}
	if got := fmt.Sprint(s); got != mask {
		t.Errorf("Sprint = %q, want the mask", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("Sprint of empty = %q, want empty", got)
	}
}

func TestSecretMarshal(t *testing.T) {
	s := Secret("s3cr3t-VALUE")
	text, err := s.MarshalText()
	must(t, err)
	if string(text) != mask {
		t.Errorf("MarshalText = %q", text)
	}
	data, err := json.Marshal(map[string]any{"s": s, "cs": ClientSecret{Value: s}})
	must(t, err)
	if bytes.Contains(data, []byte("s3cr3t")) || !bytes.Contains(data, []byte(mask)) {
		t.Errorf("JSON = %s", data)
	}
}

func TestSecretSlog(t *testing.T) {
	s := Secret("s3cr3t-VALUE")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "secret", s, slog.Any("cs", ClientSecret{Value: s}), slog.Group("g", "s", s))
	log.Info("y", "token", Token{RefreshToken: s})
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("z", "secret", s, "cs", ClientSecret{Value: s})
	for name, out := range map[string]string{"json": buf.String(), "text": text.String()} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("slog %s output leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, mask) {
			t.Errorf("slog %s output has no mask: %s", name, out)
		}
	}
}
