package exchange

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMailClean(t *testing.T) {
	const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	for _, tc := range []struct {
		in, want string
		secrets  []string
	}{
		{"NO AUTHENTICATE failed.", "NO AUTHENTICATE failed.", nil},
		{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2026-05-04T09:12:44.103Z 08DE8A1B2C3D4E5F]",
			"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com 2026-05-04T09:12:44.103Z 08DE8A1B2C3D4E5F]", nil},
		{"failed, correlation 0f8fad5b-d9cb-469f-a165-70867728950e", "failed, correlation 0f8fad5b-d9cb-469f-a165-70867728950e", nil},
		{"line one\r\nline two\ttabbed", "line one line two tabbed", nil},
		{"you sent dXNlcj1hbm5hQGNvbnRvc28uY29tAWF1dGg9QmVhcmVyIHh5egEB", "you sent [redacted]", nil},
		{"token (" + jwt + ") rejected", "token [redacted] rejected", nil},
		{"user=a@b.c\x01auth=Bearer short\x01\x01", "user=a@b.c auth=Bearer [redacted]", nil},
		{"secret s3 is wrong", "secret [redacted] is wrong", []string{"s3"}},
	} {
		if got := mailClean(tc.in, tc.secrets); got != tc.want {
			t.Errorf("mailClean(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	long := mailClean(strings.Repeat("é word ", 100), nil)
	if n := utf8.RuneCountInString(long); n != mailMaxReply || !strings.HasSuffix(long, "…") {
		t.Errorf("long reply: %d characters, %q", n, long[len(long)-10:])
	}
}
