package exchange

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// ewsStatus is what one part of an EWS answer said about the request: a
// response message's class, code, text and back-off, or a SOAP fault's.
type ewsStatus struct {
	class, code, text string
	backOff           time.Duration
}

// ewsScan is what a token-by-token read of an EWS answer found before the
// answer ended or broke off. Only elements read to their end count, so a
// code cut in half is never reported.
type ewsScan struct {
	envelope bool      // a SOAP Envelope began
	fault    ewsStatus // the Fault: faultcode or the detail's ResponseCode, faultstring or detail Message
	message  ewsStatus // the first failing response message, else the first one
	err      error     // why the read stopped before the end, if it did
}

// scanEWS reads an answer leniently: a body cut off mid-document (a
// dropped connection, a proxy's size limit) still yields the fault or the
// response code Exchange had already sent, with its BackOffMilliseconds, so
// an ErrorServerBusy that broke off is still throttling. RawToken does not
// check that end tags match, which is the point: whatever was said counts.
func scanEWS(data []byte) ewsScan {
	var (
		s       ewsScan
		d       = xml.NewDecoder(bytes.NewReader(data))
		stack   []string // local names of the open elements
		text    strings.Builder
		cur     ewsStatus // the response message being read
		inMsg   bool
		valName string // Name of the open <t:Value>
		from    int64  // where the open element's content starts
	)
	d.Strict = false // HTML entities and bare attributes do not end the read
	within := func(name string) bool {
		for _, n := range stack {
			if n == name {
				return true
			}
		}
		return false
	}
	endMessage := func() {
		if cur.code != "" && (s.message.code == "" || (s.message.class != "Error" && cur.class == "Error")) {
			s.message = cur
		}
		cur, inMsg = ewsStatus{}, false
	}
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			text.Reset()
			from = d.InputOffset()
			switch {
			case t.Name.Local == "Envelope":
				s.envelope = true
			case strings.HasSuffix(t.Name.Local, "ResponseMessage") && !within("Fault"):
				endMessage()
				inMsg = true
				cur.class = attr(t, "ResponseClass")
			case t.Name.Local == "Value":
				valName = attr(t, "Name")
			}
		case xml.CharData:
			if text.Len() < 4096 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			name := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			v := strings.TrimSpace(text.String())
			text.Reset()
			// A code counts only as written plainly: no entity, CDATA
			// or comment makes one up.
			plain := from <= before && strings.TrimSpace(string(data[from:before])) == v && isCode(v)
			into := &cur
			if within("Fault") || name == "Fault" {
				into = &s.fault
			} else if !inMsg {
				continue
			}
			switch name {
			case "faultcode":
				// a:ErrorSchemaValidation; s:Client and s:Server say nothing more.
				if _, local, _ := strings.Cut(v, ":"); plain && strings.HasPrefix(local, "Error") && into.code == "" {
					into.code = local
				}
			case "faultstring":
				into.text = v
			case "ResponseCode":
				if plain {
					into.code = v // the detail's code is more precise than faultcode's
				}
			case "MessageText":
				into.text = v
			case "Message":
				// The detail's text; in a response, Message is an item.
				if into == &s.fault && into.text == "" {
					into.text = v
				}
			case "Value":
				if ms, err := strconv.Atoi(v); err == nil && ms > 0 && valName == "BackOffMilliseconds" {
					into.backOff = time.Duration(ms) * time.Millisecond
				}
			default:
				if strings.HasSuffix(name, "ResponseMessage") && inMsg {
					endMessage()
				}
			}
		}
	}
	if inMsg {
		endMessage() // a message cut off after its code still said it
	}
	return s
}

// isCode reports whether s has the shape of a response code, faultcode
// (a:ErrorServerBusy) included.
func isCode(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == ':') {
			return false
		}
	}
	return true
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// faultError is the SOAP fault's error, if the answer held one.
func (s ewsScan) faultError() *EWSError {
	f := s.fault
	if f.code == "" && f.text == "" {
		return nil
	}
	return &EWSError{Code: f.code, Message: f.text, BackOff: f.backOff}
}

// messageError is the failure a response message said before the answer
// broke off, if it said one.
func (s ewsScan) messageError() *EWSError {
	m := s.message
	if m.code == "" || m.class == "Success" || (m.code == "NoError" && m.class != "Error") {
		return nil
	}
	return &EWSError{Code: m.code, Message: m.text, BackOff: m.backOff}
}
