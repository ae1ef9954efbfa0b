package exchange

import (
	"encoding/xml"
	"fmt"
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
	if m.Code == "" && m.Class == "" {
		return &EWSError{Message: "the answer holds no response message"}
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
		Fault    soapFault `xml:"Fault"`
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
		Fault    soapFault `xml:"Fault"`
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

func (e *syncEnvelope) fault() *soapFault      { return &e.Body.Fault }
func (e *getFolderEnvelope) fault() *soapFault { return &e.Body.Fault }

// soapFault is what Exchange sends in the Body instead of a response when
// the request itself fails (often ErrorServerBusy inside an HTTP 500).
type soapFault struct {
	String string `xml:"faultstring"`
	Detail struct {
		Code    string       `xml:"ResponseCode"`
		Message string       `xml:"Message"`
		Values  []namedValue `xml:"MessageXml>Value"`
	} `xml:"detail"`
}

// ewsEnvelope is an answer envelope: its Body holds a response or a fault.
type ewsEnvelope interface {
	fault() *soapFault
}

// decodeEWS reads an answer into out in one pass; a SOAP fault becomes an
// *EWSError. A fault whose code or text was read before the body broke off
// (a cut connection, a size limit) is still that fault: what Exchange said
// matters more than the missing end.
func decodeEWS(data []byte, out ewsEnvelope) error {
	err := xml.Unmarshal(data, out)
	if f := out.fault(); f.String != "" || f.Detail.Code != "" {
		return &EWSError{Code: f.Detail.Code, Message: strings.TrimSpace(f.String), BackOff: backOff(f.Detail.Values)}
	}
	if err != nil {
		return fmt.Errorf("ews: read answer: %w", err)
	}
	return nil
}
