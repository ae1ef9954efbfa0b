package main

import (
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics reads the store on each scrape: the figures are always those of
// the last sweep, and nothing is kept twice.
type metrics struct {
	db  *store.DB
	eng *monitor.Engine
	now func() time.Time
}

var (
	descSecret = prometheus.NewDesc("modauth_secret_expiry_seconds", "Seconds until the profile's client secret, or its certificate (source certificate), expires (negative: expired).", []string{"profile", "source"}, nil)
	descUsers  = prometheus.NewDesc("modauth_users", "Users per state.", []string{"profile", "state"}, nil)
	descLast   = prometheus.NewDesc("modauth_user_last_success_timestamp_seconds", "When the user's sync last succeeded (0: never).", []string{"profile", "user"}, nil)
	descTokens = prometheus.NewDesc("modauth_token_requests_total", "Token requests: refreshes and client-credentials grants.", nil, nil)
	descThrot  = prometheus.NewDesc("modauth_throttled_total", "Answers of 429 Too Many Requests.", nil, nil)
	descSweeps = prometheus.NewDesc("modauth_sweeps_total", "Completed sweeps.", nil, nil)
	descUp     = prometheus.NewDesc("modauth_store_up", "1 when the store could be read for this scrape.", nil, nil)
)

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSecret, descUsers, descLast, descTokens, descThrot, descSweeps, descUp} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(m.eng.Stats.TokenRequests.Load()))
	ch <- prometheus.MustNewConstMetric(descThrot, prometheus.CounterValue, float64(m.eng.Stats.Throttled.Load()))
	ch <- prometheus.MustNewConstMetric(descSweeps, prometheus.CounterValue, float64(m.eng.Stats.Sweeps.Load()))
	up := 1.0
	if err := m.collectStore(ch); err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up)
}

func (m *metrics) collectStore(ch chan<- prometheus.Metric) error {
	profiles, err := m.db.Profiles()
	if err != nil {
		return err
	}
	now := m.now()
	for _, p := range profiles {
		if expiry, what := p.CredentialExpiry(); !expiry.IsZero() {
			source := string(p.SecretExpirySource)
			if what == "certificate" {
				source = what // its own NotAfter: exact
			}
			ch <- prometheus.MustNewConstMetric(descSecret, prometheus.GaugeValue, expiry.Sub(now).Seconds(), p.ID, source)
		}
		jobs, err := m.db.Jobs(p.ID)
		if err != nil {
			return err
		}
		states := map[store.JobState]int{}
		err = m.db.ForEachUser(p.ID, func(u store.User) error {
			j := jobs[u.Key]
			st := j.State
			if st == "" {
				st = store.StateNeverSynced
			}
			states[st]++
			var last float64
			if !j.LastSuccess.IsZero() {
				last = float64(j.LastSuccess.Unix())
			}
			ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, last, p.ID, u.Key)
			return nil
		})
		if err != nil {
			return err
		}
		for st, n := range states {
			ch <- prometheus.MustNewConstMetric(descUsers, prometheus.GaugeValue, float64(n), p.ID, string(st))
		}
	}
	return nil
}
