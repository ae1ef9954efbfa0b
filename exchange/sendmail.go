package exchange

import (
	"context"
	"net/http"
	"net/url"
)

// SendTest sends a short message from a mailbox to itself with Graph's
// sendMail, not kept in Sent Items: the only proof that a Mail.Send grant
// works, since Graph has no dry run (reference §9.6). Graph answers 202
// without a body; that is acceptance, not delivery.
func (g *Graph) SendTest(ctx context.Context, mailbox, subject, text string) error {
	type address struct {
		EmailAddress struct {
			Address string `json:"address"`
		} `json:"emailAddress"`
	}
	var to address
	to.EmailAddress.Address = mailbox
	msg := map[string]any{
		"message": map[string]any{
			"subject":      subject,
			"body":         map[string]string{"contentType": "Text", "content": text},
			"toRecipients": []address{to},
		},
		"saveToSentItems": false,
	}
	return g.Do(ctx, http.MethodPost, "/users/"+url.PathEscape(mailbox)+"/sendMail", msg, nil)
}
