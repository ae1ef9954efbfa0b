package exchange

import (
	"encoding/xml"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The parts of EWS answers modauth reads. encoding/xml matches local
// names, so the m: and t: prefixes need no declaring.

type responseMessage struct {
	Class   string `xml:"ResponseClass,attr"`
	Code    string `xml:"ResponseCode"`
	Text    string `xml:"MessageText"`
	Details struct {
		Values []namedValue `xml:"Value"`
	} `xml:"MessageXml"`
}

// err returns the message's failure, if it is one.
func (m responseMessage) err() error {
	if m.Class == "Success" || (m.Code == "NoError" && m.Class != "Error") {
		return nil
	}
	return &EWSError{Code: m.Code, Message: strings.TrimSpace(m.Text), BackOff: backOff(m.Details.Values)}
}

// namedValue is a <t:Value Name="…"> of a MessageXml.
type namedValue struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

// backOff reads BackOffMilliseconds, which ErrorServerBusy carries.
func backOff(values []namedValue) time.Duration {
	for _, v := range values {
		if v.Name == "BackOffMilliseconds" {
			if ms, err := strconv.Atoi(strings.TrimSpace(v.Value)); err == nil && ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return 0
}

type itemID struct {
	ID        string `xml:"Id,attr"`
	ChangeKey string `xml:"ChangeKey,attr"`
}

// itemChange is a <t:Create>, <t:Update>, <t:Delete> or <t:ReadFlagChange>.
// Create and Update wrap the item (<t:CalendarItem>, <t:Contact>, …) whose
// ItemId matters; Delete and ReadFlagChange carry the ItemId directly.
type itemChange struct {
	XMLName xml.Name
	Direct  itemID `xml:"ItemId"`
	Item    struct {
		ItemID itemID `xml:"ItemId"`
	} `xml:",any"`
}

func (c itemChange) id() itemID {
	if c.Direct.ID != "" {
		return c.Direct
	}
	return c.Item.ItemID
}

type syncEnvelope struct {
	Body struct {
		Response struct {
			Messages struct {
				Message struct {
					responseMessage
					SyncState string `xml:"SyncState"`
					Last      bool   `xml:"IncludesLastItemInRange"`
					Changes   struct {
						Items []itemChange `xml:",any"`
					} `xml:"Changes"`
				} `xml:"SyncFolderItemsResponseMessage"`
			} `xml:"ResponseMessages"`
		} `xml:"SyncFolderItemsResponse"`
	} `xml:"Body"`
}

type getFolderEnvelope struct {
	Body struct {
		Response struct {
			Messages struct {
				Message struct {
					responseMessage
					Folders struct {
						First struct {
							FolderID struct {
								ID string `xml:"Id,attr"`
							} `xml:"FolderId"`
						} `xml:",any"`
					} `xml:"Folders"`
				} `xml:"GetFolderResponseMessage"`
			} `xml:"ResponseMessages"`
		} `xml:"GetFolderResponse"`
	} `xml:"Body"`
}

// decodeEWS reads an answer into out. A SOAP fault, or a response
// message that said its failure before the answer broke off, becomes an
// *EWSError: what Exchange said matters more than the missing end. An
// answer that says nothing readable is ErrBadAnswer.
func decodeEWS(a *ewsAnswer, out any, msg *responseMessage) error {
	s := scanEWS(a.body)
	if e := s.faultError(); e != nil {
		return e
	}
	err := xml.Unmarshal(a.body, out)
	switch {
	case err != nil:
		if e := s.messageError(); e != nil {
			return e
		}
		return a.bad(err)
	case !s.envelope:
		return a.bad(errors.New("no soap envelope"))
	case msg.Code == "" && msg.Class == "":
		return a.bad(errors.New("no response message"))
	}
	return msg.err()
}
