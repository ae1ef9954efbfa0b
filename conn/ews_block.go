package conn

import (
	"fmt"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/exchange"
)

// EWS blocked in Exchange Online: what it means and the way out
// (microsoft.md §5.1, §9.3).
const (
	EWSBlockedMeaning = "EWS blocked for this app in Exchange Online"
	EWSRetiredMeaning = "EWS in Exchange Online is switched off for good since 1 April 2027"
)

// explainEWSBlocked says, on the profile's clock, what the block means:
// before 1 April 2027 the allow list (the EWS section of the Exchange
// PowerShell) and the date it stops working anyway, after it only the
// move to Graph.
func (c *Conn) explainEWSBlocked() (meaning, fix string, topics []string) {
	p := c.prof
	now := c.d.Now()
	graph, ok := appreg.GraphWayOut(p.Preset)
	if !ok {
		product := "the product"
		if pr, known := appreg.PresetByID(p.Preset); known {
			product = pr.Product
		}
		graph = "modauth knows no Microsoft Graph way for " + product + ": ask its vendor for a Graph-based sync"
	}
	if exchange.EWSRetired(now) {
		return EWSRetiredMeaning, "EWS in Exchange Online was switched off for good on 1 April 2027, with no exceptions and no allow list: " + graph + ".", nil
	}
	days := exchange.EWSDaysLeft(now)
	fix = fmt.Sprintf("Exchange Online blocks EWS for this app: add its client ID %s to the organisation's EwsAllowedAppIDs, keeping the IDs already listed, "+
		"with EwsEnabled $true (the PowerShell; changes can take hours). That works only until 1 April 2027 (%s), when EWS in Exchange Online stops for every app: %s.",
		p.ClientID, daysLeft(days), graph)
	return EWSBlockedMeaning, fix, []string{"ews"}
}

func daysLeft(days int) string {
	if days == 1 {
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", days)
}
