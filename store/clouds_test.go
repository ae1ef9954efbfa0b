package store

import "testing"

// TestCloudsMatchTheReference checks every host and audience of each
// cloud against shared/reference/microsoft.md §9.8 (and §2.2 for the
// global cloud's Outlook audience of IMAP, POP and SMTP), typed in here
// from the table rather than from the code.
func TestCloudsMatchTheReference(t *testing.T) {
	want := map[string]Hosts{
		"public": {
			Authority: "https://login.microsoftonline.com", Graph: "https://graph.microsoft.com", GraphResource: "https://graph.microsoft.com",
			ExchangeResource: "https://outlook.office365.com", MailResource: "https://outlook.office.com",
			EWS: "https://outlook.office365.com/EWS/Exchange.asmx", IMAP: "outlook.office365.com:993", POP: "outlook.office365.com:995",
			SMTP: "smtp.office365.com:587",
		},
		"usgov": {
			Authority: "https://login.microsoftonline.us", Graph: "https://graph.microsoft.us", GraphResource: "https://graph.microsoft.us",
			ExchangeResource: "https://outlook.office365.us", MailResource: "https://outlook.office365.us",
			EWS: "https://outlook.office365.us/EWS/Exchange.asmx", IMAP: "outlook.office365.us:993", POP: "outlook.office365.us:995",
			SMTP: "outlook.office365.us:587",
		},
		"usgov-dod": {
			Authority: "https://login.microsoftonline.us", Graph: "https://dod-graph.microsoft.us", GraphResource: "https://dod-graph.microsoft.us",
			ExchangeResource: "https://outlook-dod.office365.us", MailResource: "https://outlook-dod.office365.us",
			EWS: "https://outlook-dod.office365.us/EWS/Exchange.asmx", IMAP: "outlook-dod.office365.us:993", POP: "outlook-dod.office365.us:995",
			SMTP: "outlook-dod.office365.us:587",
		},
		"china": {
			Authority: "https://login.partner.microsoftonline.cn", Graph: "https://microsoftgraph.chinacloudapi.cn", GraphResource: "https://microsoftgraph.chinacloudapi.cn",
			ExchangeResource: "https://partner.outlook.cn", MailResource: "https://partner.outlook.cn",
			EWS: "https://partner.outlook.cn/EWS/Exchange.asmx", IMAP: "partner.outlook.cn:993", POP: "partner.outlook.cn:995",
			SMTP: "smtp.partner.outlook.cn:587",
		},
	}
	if len(Clouds) != len(want) {
		t.Errorf("%d clouds, the reference has %d", len(Clouds), len(want))
	}
	for _, c := range Clouds {
		t.Run(c.ID, func(t *testing.T) {
			w, ok := want[c.ID]
			if !ok {
				t.Fatalf("cloud %q is not in the reference", c.ID)
			}
			if c.Hosts != w {
				t.Errorf("hosts\n got %+v\nwant %+v", c.Hosts, w)
			}
			if c.Hosts.WithDefaults() != w {
				t.Errorf("with defaults\n got %+v\nwant %+v", c.Hosts.WithDefaults(), w)
			}
			if got, ok := CloudOf(c.Hosts); !ok || got.ID != c.ID {
				t.Errorf("CloudOf: %q, %v", got.ID, ok)
			}
		})
	}
}

// A profile stored before the Exchange audiences were fields, with the
// hosts the wizard's old cloud table wrote, asks for its own cloud's
// audiences, not the public cloud's.
func TestOldNationalProfilesGetTheirCloudsAudiences(t *testing.T) {
	for _, tc := range []struct {
		hosts          Hosts
		exchange, mail string
	}{
		{Hosts{Authority: "https://login.microsoftonline.us", Graph: "https://graph.microsoft.us", EWS: "https://outlook.office365.us/EWS/Exchange.asmx"},
			"https://outlook.office365.us", "https://outlook.office365.us"},
		{Hosts{Authority: "https://login.chinacloudapi.cn", Graph: "https://microsoftgraph.chinacloudapi.cn"},
			"https://partner.outlook.cn", "https://partner.outlook.cn"},
		{Hosts{Authority: "https://login.chinacloudapi.cn"}, "https://partner.outlook.cn", "https://partner.outlook.cn"},
		{Hosts{Authority: "https://login.microsoftonline.us"}, "https://outlook.office365.us", "https://outlook.office365.us"},
		{Hosts{}, "https://outlook.office365.com", "https://outlook.office.com"},
		// The simulator's hosts are no cloud's: the public audiences.
		{Hosts{Authority: "http://127.0.0.1:4000", Graph: "http://127.0.0.1:4000", GraphResource: "https://graph.microsoft.com"},
			"https://outlook.office365.com", "https://outlook.office.com"},
	} {
		h := tc.hosts.WithDefaults()
		if h.ExchangeResource != tc.exchange || h.MailResource != tc.mail {
			t.Errorf("%+v: exchange %s, mail %s; want %s, %s", tc.hosts, h.ExchangeResource, h.MailResource, tc.exchange, tc.mail)
		}
	}
	if c, ok := CloudOf(Hosts{}); !ok || c.ID != "public" {
		t.Errorf("empty hosts are the public cloud's, not %q", c.ID)
	}
	if h := (Hosts{Authority: "https://login.chinacloudapi.cn"}).WithDefaults(); h.Authority != "https://login.chinacloudapi.cn" || h.Graph != "https://microsoftgraph.chinacloudapi.cn" {
		t.Errorf("a stored authority is kept and the rest is its cloud's: %+v", h)
	}
}
