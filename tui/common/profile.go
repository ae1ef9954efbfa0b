package common

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Step IDs: what the profile stores as the wizard's progress.
const (
	StepProfile  = "profile"
	StepRegister = "register"
	StepIDs      = "ids"
	StepServer   = "server"
	StepUsers    = "users"
	StepConsent  = "consent"
	StepVerify   = "verify"
)

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

// spelledOut are the letters whose accent is not dropped but written out,
// as Germans, Danes and the French do in addresses: Müller is mueller.
var spelledOut = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "æ", "ae", "œ", "oe", "ø", "oe", "å", "aa", "ł", "l", "đ", "d", "þ", "th")

// unaccent drops the remaining accents: é is e, ç is c. A chain keeps
// state while it runs, so each use gets its own.
func unaccent() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// ProfileID makes "acme-production" from "Acme B.V." and "production",
// and "immobilien-mueller-gmbh-production" from "Immobilien Müller GmbH".
func ProfileID(customer, env string) string {
	ascii, _, err := transform.String(unaccent(), spelledOut.Replace(strings.ToLower(customer)))
	if err != nil {
		ascii = strings.ToLower(customer)
	}
	id := strings.Trim(nonID.ReplaceAllString(ascii, "-"), "-")
	if id == "" {
		id = "profile"
	}
	return id + "-" + env
}

func Required(what string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("enter %s", what)
		}
		return nil
	}
}

// Folders are what a profile keeps in step: what Graph syncs, and for EWS
// products (AllSolutions, Divalto) contacts, tasks and the calendar.
func Folders(sc appreg.Scenario) []string {
	var out []string
	for _, d := range sc.Data {
		if d != appreg.MailSend {
			out = append(out, string(d))
		}
	}
	if len(out) == 0 && slices.Contains(sc.Protocols, store.EWS) {
		out = []string{"calendar", "contacts", "tasks"}
	}
	return out
}
