package exchange

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A SyncFolderItems answer as Exchange Online sends it.
const syncAnswer = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="20" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header>
<s:Body><m:SyncFolderItemsResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
<m:SyncState>H4sIAAAAAAAEAO29</m:SyncState><m:IncludesLastItemInRange>false</m:IncludesLastItemInRange>
<m:Changes>
<t:Create><t:CalendarItem><t:ItemId Id="AAMk1" ChangeKey="DwAA1"/></t:CalendarItem></t:Create>
<t:Update><t:Contact><t:ItemId Id="AAMk2" ChangeKey="DwAA2"/></t:Contact></t:Update>
<t:Delete><t:ItemId Id="AAMk3"/></t:Delete>
<t:ReadFlagChange><t:ItemId Id="AAMk4" ChangeKey="DwAA4"/><t:IsRead>true</t:IsRead></t:ReadFlagChange>
</m:Changes></m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse></s:Body></s:Envelope>`

// decodeSync decodes a SyncFolderItems answer sent with HTTP status.
func decodeSync(data string, status int) (*syncEnvelope, error) {
	var env syncEnvelope
	a := &ewsAnswer{status: status, header: http.Header{"Content-Type": {"text/xml; charset=utf-8"}}, body: []byte(data)}
	return &env, decodeEWS(a, &env, &env.Body.Response.Messages.Message.responseMessage)
}

func TestDecodeSyncFolderItems(t *testing.T) {
	env, err := decodeSync(syncAnswer, http.StatusOK)
	msg := env.Body.Response.Messages.Message
	if err != nil || msg.SyncState != "H4sIAAAAAAAEAO29" || msg.Last {
		t.Fatalf("msg %+v err %v", msg, err)
	}
	want := []Change{{"Create", "AAMk1", "DwAA1"}, {"Update", "AAMk2", "DwAA2"}, {"Delete", "AAMk3", ""}, {"ReadFlagChange", "AAMk4", "DwAA4"}}
	if len(msg.Changes.Items) != len(want) {
		t.Fatalf("%d changes", len(msg.Changes.Items))
	}
	for i, c := range msg.Changes.Items {
		id := c.id()
		if got := (Change{c.XMLName.Local, id.ID, id.ChangeKey}); got != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got, want[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	busy := strings.NewReplacer(`ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`,
		`ResponseClass="Error"><m:MessageText>The server cannot service this request right now.</m:MessageText><m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:MessageXml><t:Value Name="BackOffMilliseconds">2500</t:Value></m:MessageXml>`).Replace(syncAnswer)
	_, err := decodeSync(busy, http.StatusOK)
	var ee *EWSError
	if !errors.As(err, &ee) || ee.Code != "ErrorServerBusy" || ee.BackOff != 2500*time.Millisecond || !errors.Is(err, ErrThrottled) {
		t.Errorf("busy: %#v", err)
	}
	fault := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorInvalidSyncStateData</faultcode><faultstring>Synchronization state data is corrupt or otherwise invalid.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorInvalidSyncStateData</e:ResponseCode></detail></s:Fault></s:Body></s:Envelope>`
	_, err = decodeSync(fault, http.StatusInternalServerError)
	if !errors.Is(err, ErrResyncRequired) || !strings.Contains(err.(*EWSError).Fix(), "from the start") {
		t.Errorf("fault: %v", err)
	}
}

// busyFault is an ErrorServerBusy SOAP fault in the shape Exchange Online
// sends it (as quoted in https://github.com/mguessan/davmail/issues/161).
const busyFault = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
    <s:Body>
        <s:Fault>
            <faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorServerBusy</faultcode>
            <faultstring xml:lang="en-US">The server cannot service this request right now. Try again later.</faultstring>
            <detail>
                <e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>
                <e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">The server cannot service this request right now. Try again later.</e:Message>
                <t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
                    <t:Value Name="BackOffMilliseconds">29943</t:Value>
                </t:MessageXml>
            </detail>
        </s:Fault>
    </s:Body>
</s:Envelope>`

// TestDecodeFaultCutOff: a fault keeps what it said before the body broke
// off, and an answer cut before saying anything is a bad answer.
func TestDecodeFaultCutOff(t *testing.T) {
	var ee *EWSError
	if _, err := decodeSync(busyFault, http.StatusInternalServerError); !errors.As(err, &ee) || ee.BackOff != 29943*time.Millisecond || !errors.Is(err, ErrThrottled) {
		t.Fatalf("whole fault: %#v", err)
	}
	afterCode := strings.Index(busyFault, "</e:ResponseCode>") + len("</e:ResponseCode>")
	for _, cut := range []int{afterCode, afterCode + 40, strings.Index(busyFault, "29943") + 2, len(busyFault) - 20} {
		_, err := decodeSync(busyFault[:cut], http.StatusInternalServerError)
		if !errors.As(err, &ee) || ee.Code != "ErrorServerBusy" || !errors.Is(err, ErrThrottled) ||
			ee.Message != "The server cannot service this request right now. Try again later." {
			t.Errorf("cut at %d: %#v, want the ErrorServerBusy fault", cut, err)
		}
	}
	var syntax *xml.SyntaxError
	for _, cut := range []string{syncAnswer[:len(syncAnswer)/2], busyFault[:strings.Index(busyFault, "<faultcode")]} {
		if _, err := decodeSync(cut, http.StatusInternalServerError); !errors.As(err, &syntax) || !errors.Is(err, ErrBadAnswer) || errors.Is(err, ErrThrottled) {
			t.Errorf("cut before any fault: %v, want a bad answer", err)
		}
	}
}

func FuzzDecodeEWS(f *testing.F) {
	f.Add([]byte(syncAnswer))
	f.Add([]byte(busyFault))
	f.Add([]byte(`<s:Envelope><s:Body><s:Fault><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>`))
	f.Add([]byte(`<a><b`))
	// A fault that has said its code; the fuzzer writes what follows.
	const faultStart = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultstring>busy</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode>`
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeSync(string(data), http.StatusOK)
		var ee *EWSError
		switch {
		case errors.As(err, &ee) && ee.kind == nil:
			// A failure Exchange said is in the answer, verbatim.
			if (ee.Code == "" && ee.Message == "") || !bytes.Contains(data, []byte(ee.Code)) || ee.BackOff < 0 {
				t.Errorf("error %#v from %q", ee, data)
			}
		case err != nil:
			if !errors.Is(err, ErrBadAnswer) || !strings.HasPrefix(err.Error(), "ews: http 200: answer not understood: ") {
				t.Errorf("read error %q", err)
			}
		default:
			// Only a message that says success decodes without error.
			msg := env.Body.Response.Messages.Message
			if msg.Class != "Success" && (msg.Code != "NoError" || msg.Class == "Error") {
				t.Errorf("class %q, code %q: no error", msg.Class, msg.Code)
			}
			// A change's item ID is its own ItemId, or else its item's.
			for _, c := range msg.Changes.Items {
				if id := c.id(); (c.Direct.ID != "" && id != c.Direct) || (c.Direct.ID == "" && id != c.Item.ItemID) {
					t.Errorf("change %+v: id %+v", c, id)
				}
			}
		}

		// Once a fault has said its code, nothing that follows (a cut, a
		// syntax error, more elements) takes the code away.
		if !bytes.Contains(data, []byte("ResponseCode")) {
			_, err := decodeSync(faultStart+string(data), http.StatusInternalServerError)
			if !errors.As(err, &ee) || ee.Code != "ErrorServerBusy" {
				t.Errorf("fault followed by %q: %v", data, err)
			}
		}
	})
}

// FuzzEWSFault: the lenient reader never panics, and a code it reports
// stands in the answer as written, with a back-off that is not negative.
func FuzzEWSFault(f *testing.F) {
	f.Add([]byte(busyFault))
	f.Add([]byte(busyFault[:strings.Index(busyFault, "<e:Message")]))
	f.Add([]byte(syncAnswer))
	f.Add([]byte(`<s:Envelope><s:Body><s:Fault><faultcode>a:ErrorInvalidServerVersion</faultcode>`))
	f.Add([]byte(`<m:X ResponseClass="Error"><m:ResponseCode>Error&#83;erverBusy</m:ResponseCode>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := scanEWS(data)
		for _, st := range []ewsStatus{s.fault, s.message} {
			if st.code != "" && !bytes.Contains(data, []byte(st.code)) {
				t.Errorf("code %q is not in %q", st.code, data)
			}
			if st.backOff < 0 {
				t.Errorf("back-off %v", st.backOff)
			}
		}
		if e := s.faultError(); e != nil && e.Code == "" && e.Message == "" {
			t.Errorf("a fault that says nothing: %#v", e)
		}
	})
}
