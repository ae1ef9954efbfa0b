package m365sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// personas are the named users every simulated tenant has, one for each
// mapping problem the seed guides warn about.
var personas = []struct {
	given, sur, local, mailLocal, persona string
	onMicrosoft, disabled, noMailbox      bool
	aliases                               []string
	roles                                 []string
}{
	{given: "Sam", sur: "Admin", local: "admin", persona: "global administrator", onMicrosoft: true, roles: []string{"Global Administrator"}},
	{given: "Anna", sur: "de Vries", local: "anna.devries", persona: "UPN equals primary SMTP address"},
	{given: "Bram", sur: "Janssen", local: "bjanssen", mailLocal: "bram.janssen", persona: "UPN on onmicrosoft.com differs from primary SMTP address", onMicrosoft: true},
	{given: "Claire", sur: "Dubois", local: "claire.dubois", mailLocal: "c.dubois", persona: "product knows her alias, not her UPN", aliases: []string{"claire.dubois", "sales"}},
	{given: "Dieter", sur: "Wagner", local: "dieter.wagner", persona: "account disabled", disabled: true},
	{given: "Eva", sur: "Schmidt", local: "eva.schmidt", persona: "licensed for nothing: no mailbox", noMailbox: true},
	{given: "Hugo", sur: "Lefebvre", local: "hugo.lefebvre", persona: "Application Administrator without Graph rights", roles: []string{"Application Administrator"}},
}

var (
	givenNames = []string{"Jan", "Sanne", "Pieter", "Lotte", "Thomas", "Julia", "Luca", "Marie", "Lukas", "Emma", "Noah", "Mila", "Daan", "Sophie", "Jonas", "Léa", "Finn", "Nina", "Louis", "Chloé", "Paul", "Hannah", "Ruben", "Femke"}
	surnames   = []string{"Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Müller", "Schneider", "Fischer", "Weber", "Becker", "Martin", "Bernard", "Moreau", "Laurent", "Girard", "Peeters", "Maes", "Jacobs", "Willems", "Hoffmann", "Koch", "Roux", "Fontaine"}
)

// makeUsers builds the personas and n generated users. The same seed gives
// the same users, IDs and problems in every run.
func makeUsers(rng *rand.Rand, domain, onMicrosoft string, n int) []*User {
	users := make([]*User, 0, len(personas)+n)
	seen := map[string]bool{}
	for _, p := range personas {
		mailLocal := p.mailLocal
		if mailLocal == "" {
			mailLocal = p.local
		}
		upnDomain := domain
		if p.onMicrosoft {
			upnDomain = onMicrosoft
		}
		u := newUser(rng, p.given, p.sur, p.local+"@"+upnDomain, mailLocal+"@"+domain, !p.noMailbox)
		for _, a := range p.aliases {
			u.ProxyAddresses = append(u.ProxyAddresses, "smtp:"+a+"@"+domain)
		}
		u.Enabled, u.Roles, u.Persona = !p.disabled, p.roles, p.persona
		seen[strings.ToLower(u.UPN)] = true
		users = append(users, u)
	}
	for i := 0; len(users) < len(personas)+n; i++ {
		given := givenNames[rng.IntN(len(givenNames))]
		sur := surnames[rng.IntN(len(surnames))]
		local := asciiLocal(given + "." + sur)
		if seen[local+"@"+domain] {
			local = fmt.Sprintf("%s%d", local, i)
		}
		upn := local + "@" + domain
		mail := upn
		switch r := rng.IntN(100); {
		case r < 10: // renamed or legacy: UPN differs from the address people use
			upn = asciiLocal(given[:1]+sur) + fmt.Sprint(i) + "@" + onMicrosoft
		case r < 15:
			mail = asciiLocal(given[:1]+"."+sur) + fmt.Sprint(i) + "@" + domain
		}
		seen[strings.ToLower(upn)] = true
		u := newUser(rng, given, sur, upn, mail, rng.IntN(100) >= 2)
		if rng.IntN(100) < 20 {
			u.ProxyAddresses = append(u.ProxyAddresses, "smtp:"+asciiLocal(given)+fmt.Sprint(i)+"@"+domain)
		}
		u.Enabled = rng.IntN(100) >= 2
		users = append(users, u)
	}
	return users
}

func newUser(rng *rand.Rand, given, sur, upn, mail string, mailbox bool) *User {
	u := &User{
		ObjectID:    guid(rng),
		UPN:         upn,
		DisplayName: given + " " + sur,
		GivenName:   given,
		Surname:     sur,
		Enabled:     true,
		HasMailbox:  mailbox,
	}
	if mailbox {
		u.Mail = mail
		u.ProxyAddresses = []string{"SMTP:" + mail}
		if !strings.EqualFold(upn, mail) {
			u.ProxyAddresses = append(u.ProxyAddresses, "smtp:"+upn)
		}
	}
	return u
}

// asciiLocal turns a name into a mailbox local part: lower case, no spaces,
// accents folded.
func asciiLocal(s string) string {
	r := strings.NewReplacer(" ", "", "é", "e", "è", "e", "ü", "ue", "ö", "oe", "ä", "ae", "É", "e")
	return strings.ToLower(r.Replace(s))
}

// guid draws a version-4 GUID from rng.
func guid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
