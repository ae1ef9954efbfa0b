package tui

import (
	"slices"

	"github.com/modauth/modauth/appreg"
	"github.com/modauth/modauth/store"
)

// planFor rebuilds the registration plan of a stored profile.
func planFor(p store.Profile) (*appreg.Plan, error) {
	sc := appreg.Scenario{
		Preset: p.Preset, Product: p.Customer, Environment: p.Environment, Model: p.Model,
		Protocols: p.Protocols, OnPremises: p.OnPremises, RedirectURI: p.RedirectURI,
	}
	if pre, ok := appreg.PresetByID(p.Preset); ok {
		sc.NativeRedirectURIs, sc.DeviceCode = pre.Scenario.NativeRedirectURIs, pre.Scenario.DeviceCode
		sc.ProductSecret = pre.Scenario.ProductSecret
		if pre.Product != "Generic" {
			sc.Product = pre.Product
		}
		sc.Data = pre.Scenario.Data
	}
	// modauth's own sign-ins use device code where a browser is missing.
	sc.DeviceCode = sc.DeviceCode || p.Model != store.AppOnly
	for _, f := range p.Folders {
		d := appreg.Data(f)
		if !slices.Contains(sc.Data, d) {
			sc.Data = append(sc.Data, d)
		}
	}
	return appreg.NewPlan(sc)
}
