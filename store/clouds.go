package store

import (
	"net/url"
	"strings"
)

// Cloud is a Microsoft cloud a tenant lives in: an app is registered in
// one, and every host and token audience comes from it (microsoft.md §9.8).
type Cloud struct {
	ID    string // kept in no record: the wizard's choice
	Label string
	Hosts Hosts
	// DeviceLogin is where people enter a device code in this cloud.
	DeviceLogin string
}

// Clouds are the clouds modauth knows, the global one first. GCC (not
// High) is the global cloud. Where microsoft.md marks a value as a third
// party's [3p], that value is the one used here.
var Clouds = []Cloud{
	{ID: "public", Label: "Microsoft global cloud", Hosts: DefaultHosts, DeviceLogin: "https://microsoft.com/devicelogin"},
	{ID: "usgov", Label: "US Government (GCC High)", DeviceLogin: "https://microsoft.com/deviceloginus", Hosts: Hosts{
		Authority: "https://login.microsoftonline.us",
		Graph:     "https://graph.microsoft.us", GraphResource: "https://graph.microsoft.us",
		ExchangeResource: "https://outlook.office365.us", MailResource: "https://outlook.office365.us",
		EWS:  "https://outlook.office365.us/EWS/Exchange.asmx",
		IMAP: "outlook.office365.us:993", POP: "outlook.office365.us:995",
		// Microsoft's endpoint list names outlook.office365.us for SMTP
		// too; some clients use smtp.office365.us.
		SMTP: "outlook.office365.us:587",
	}},
	{ID: "usgov-dod", Label: "US Government (DoD)", DeviceLogin: "https://microsoft.com/deviceloginus", Hosts: Hosts{
		Authority: "https://login.microsoftonline.us",
		Graph:     "https://dod-graph.microsoft.us", GraphResource: "https://dod-graph.microsoft.us",
		ExchangeResource: "https://outlook-dod.office365.us", MailResource: "https://outlook-dod.office365.us",
		EWS:  "https://outlook-dod.office365.us/EWS/Exchange.asmx",
		IMAP: "outlook-dod.office365.us:993", POP: "outlook-dod.office365.us:995",
		SMTP: "outlook-dod.office365.us:587",
	}},
	{ID: "china", Label: "China (operated by 21Vianet)", DeviceLogin: "https://microsoft.com/deviceloginchina", Hosts: Hosts{
		Authority: "https://login.partner.microsoftonline.cn",
		Graph:     "https://microsoftgraph.chinacloudapi.cn", GraphResource: "https://microsoftgraph.chinacloudapi.cn",
		ExchangeResource: "https://partner.outlook.cn", MailResource: "https://partner.outlook.cn",
		EWS:  "https://partner.outlook.cn/EWS/Exchange.asmx",
		IMAP: "partner.outlook.cn:993", POP: "partner.outlook.cn:995",
		SMTP: "smtp.partner.outlook.cn:587",
	}},
}

// chinaLegacyAuthority is the China cloud's authority in older documents,
// which profiles made before may hold.
const chinaLegacyAuthority = "login.chinacloudapi.cn"

// CloudByID finds a cloud by its ID.
func CloudByID(id string) (Cloud, bool) {
	for _, c := range Clouds {
		if c.ID == id {
			return c, true
		}
	}
	return Cloud{}, false
}

// CloudOf tells which cloud hosts belong to: by the Graph host, which is
// one per cloud, else by the authority (GCC High and DoD share theirs,
// so an authority alone names GCC High); hosts with neither are the
// public cloud's defaults. Hosts of no cloud, such as the simulator's,
// belong to none.
func CloudOf(h Hosts) (Cloud, bool) {
	if h.Graph == "" && h.Authority == "" {
		return Clouds[0], true
	}
	if g := hostOf(h.Graph); g != "" {
		for _, c := range Clouds {
			if g == hostOf(c.Hosts.Graph) {
				return c, true
			}
		}
		return Cloud{}, false
	}
	a := hostOf(h.Authority)
	if a == chinaLegacyAuthority {
		return CloudByID("china")
	}
	for _, c := range Clouds {
		if a != "" && a == hostOf(c.Hosts.Authority) {
			return c, true
		}
	}
	return Cloud{}, false
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
