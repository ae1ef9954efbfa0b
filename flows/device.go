package flows

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DeviceCode is a device-code sign-in waiting for a person: everything a
// screen needs to show.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	Message         string // the service's own sentence, in its language
	ExpiresAt       time.Time
	Interval        time.Duration

	deviceCode string
	scopes     []string
}

type deviceBody struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int64  `json:"expires_in"`
	Interval        int64  `json:"interval"`
	Message         string `json:"message"`
}

// StartDeviceCode asks for a user code. The app registration must allow
// public client flows, or polling fails with AADSTS7000218.
func (c *Client) StartDeviceCode(ctx context.Context, scopes []string) (*DeviceCode, error) {
	if c.ep.DeviceAuthorization == "" {
		return nil, fmt.Errorf("start device sign-in: the provider publishes no device authorization endpoint: use the browser sign-in")
	}
	if c.cfg.DeviceConfidential && c.cfg.ClientSecret.IsZero() {
		return nil, fmt.Errorf("start device sign-in: the device client is confidential but no client secret is set: enter the secret's value for this profile")
	}
	var b deviceBody
	form := c.deviceClient(url.Values{"scope": {strings.Join(scopes, " ")}})
	if err := c.postForm(ctx, c.ep.DeviceAuthorization, form, &b); err != nil {
		return nil, fmt.Errorf("start device sign-in: %w", err)
	}
	interval := time.Duration(b.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628's default
	}
	return &DeviceCode{
		UserCode:        b.UserCode,
		VerificationURI: b.VerificationURI,
		Message:         b.Message,
		ExpiresAt:       c.cfg.Now().Add(time.Duration(b.ExpiresIn) * time.Second),
		Interval:        interval,
		deviceCode:      b.DeviceCode,
		scopes:          scopes,
	}, nil
}

// PollDeviceCode waits until the person signs in, declines, or the code
// expires. It waits the announced interval between polls, adds five
// seconds on slow_down, honours Retry-After, rides out brief outages, and
// stops when ctx is cancelled.
func (c *Client) PollDeviceCode(ctx context.Context, dc *DeviceCode) (*Token, error) {
	form := c.deviceClient(url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {dc.deviceCode},
	})
	interval := dc.Interval
	for {
		if err := c.cfg.Sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("wait for device sign-in: %w", err)
		}
		var b tokenBody
		err := c.postForm(ctx, c.ep.Token, form, &b)
		if err == nil {
			t, err := c.token(ctx, b, "")
			if err != nil {
				return nil, err
			}
			t.ViaDevice, t.Confidential = true, c.cfg.DeviceConfidential
			return t, nil
		}
		e, ok := err.(*Error)
		if !ok {
			return nil, fmt.Errorf("poll device sign-in: %w", err)
		}
		switch e.Kind {
		case KindPending:
		case KindSlowDown:
			interval += 5 * time.Second
		case KindThrottled, KindUnavailable:
			interval = max(interval, e.RetryAfter)
		default:
			return nil, fmt.Errorf("device sign-in: %w", e)
		}
		// A provider that keeps saying "pending" past the code's life
		// would keep us here forever.
		if c.cfg.Now().After(dc.ExpiresAt.Add(interval)) {
			return nil, fmt.Errorf("device sign-in: %w", &Error{Err: "expired_token", Kind: KindExpired, Description: "the code expired before anyone signed in: start again"})
		}
	}
}

// deviceClient adds the client's identification to a device-flow form:
// its ID, and its secret when the device client is confidential.
func (c *Client) deviceClient(form url.Values) url.Values {
	form.Set("client_id", c.cfg.ClientID)
	if c.cfg.DeviceConfidential {
		form.Set("client_secret", c.cfg.ClientSecret.Reveal())
	}
	return form
}
