package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

// Nagios plugin states, which are also the check command's exit codes.
const (
	nagiosOK = iota
	nagiosWarning
	nagiosCritical
	nagiosUnknown
)

var nagiosNames = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

type checkOptions struct {
	IO      streams
	Data    *dataDirFlag
	Profile string
	JSON    bool
	Warn    string
	Crit    string
	Now     func() time.Time
}

func newCheckCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &checkOptions{IO: io, Data: data, Now: io.Now}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Nagios-style check of secret expiry and user states (exit 0/1/2/3)",
		Long: `Prints one status line with performance data and exits 0 (OK), 1 (WARNING),
2 (CRITICAL) or 3 (UNKNOWN), for Nagios, Icinga and the like.

CRITICAL: a client secret expired or expires within --crit, or users are stopped
by an expired secret. WARNING: a secret expires within --warn, or users need a
sign-in, consent or a corrected account.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(opts) },
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "check one profile (default: all)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().StringVar(&opts.Warn, "warn", "30d", "warn when a secret expires within this")
	cmd.Flags().StringVar(&opts.Crit, "crit", "7d", "critical when a secret expires within this")
	return cmd
}

// checkResult is the outcome of a check.
type checkResult struct {
	Status   int      `json:"status"`
	State    string   `json:"state"`
	Summary  string   `json:"summary"`
	Details  []string `json:"details,omitempty"`
	Perfdata []string `json:"perfdata"`
}

func runCheck(opts *checkOptions) error {
	res, err := collectCheck(opts)
	if err != nil {
		res = checkResult{Status: nagiosUnknown, Summary: err.Error()}
	}
	res.State = nagiosNames[res.Status]
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		line := "MODAUTH " + res.State + " - " + res.Summary
		if len(res.Perfdata) > 0 {
			line += " | " + strings.Join(res.Perfdata, " ")
		}
		fmt.Fprintln(opts.IO.Out, line)
		for _, d := range res.Details {
			fmt.Fprintln(opts.IO.Out, d)
		}
	}
	if res.Status == nagiosOK {
		return nil
	}
	return &exitStatus{code: res.Status}
}

func collectCheck(opts *checkOptions) (checkResult, error) {
	warn, err := parseDays(opts.Warn)
	if err != nil {
		return checkResult{}, err
	}
	crit, err := parseDays(opts.Crit)
	if err != nil {
		return checkResult{}, err
	}
	db, err := opts.Data.open()
	if err != nil {
		return checkResult{}, err
	}
	defer db.Close()
	profiles, err := selectProfiles(db, opts.Profile)
	if err != nil {
		return checkResult{}, err
	}
	var in []profileHealth
	for _, p := range profiles {
		jobs, err := db.Jobs(p.ID)
		if err != nil {
			return checkResult{}, err
		}
		users, err := db.Users(p.ID)
		if err != nil {
			return checkResult{}, err
		}
		h := profileHealth{Profile: p, States: map[store.JobState]int{}}
		for _, u := range users {
			st := jobs[u.Key].State
			if st == "" {
				st = store.StateNeverSynced
			}
			h.States[st]++
		}
		in = append(in, h)
	}
	res := evaluate(in, opts.Now(), warn, crit)
	if len(opts.Data.etcd) > 0 {
		if err := checkCluster(&res, opts.Data, db, profiles); err != nil {
			return checkResult{}, err
		}
	}
	return res, nil
}

// raise sets the status to s at least, with the detail saying why.
func (r *checkResult) raise(s int, detail string) {
	r.Status = max(r.Status, s)
	r.Details = append(r.Details, nagiosNames[s]+": "+detail)
}

// profileHealth is what the check looks at per profile.
type profileHealth struct {
	Profile store.Profile
	States  map[store.JobState]int
}

// evaluate turns profiles' secret expiry and user states into one status.
func evaluate(ps []profileHealth, now time.Time, warn, crit time.Duration) checkResult {
	res := checkResult{}
	raise := res.raise
	totals := map[store.JobState]int{}
	soonest, soonestDays := "", 0
	for _, h := range ps {
		p := h.Profile
		if expiry, what := p.CredentialExpiry(); !expiry.IsZero() {
			left := expiry.Sub(now)
			days := int(left.Hours() / 24)
			res.Perfdata = append(res.Perfdata, fmt.Sprintf("'%s_days_%s'=%d;%d;%d", what, p.ID, days, int(warn.Hours()/24), int(crit.Hours()/24)))
			name := what
			if what == "secret" {
				name = "client secret"
			}
			switch {
			case left <= 0:
				raise(nagiosCritical, fmt.Sprintf("%s: %s expired on %s", p.ID, name, expiry.Format("2006-01-02")))
			case left <= crit:
				raise(nagiosCritical, fmt.Sprintf("%s: %s expires in %d days (%s)", p.ID, name, days, expiry.Format("2006-01-02")))
			case left <= warn:
				raise(nagiosWarning, fmt.Sprintf("%s: %s expires in %d days (%s)", p.ID, name, days, expiry.Format("2006-01-02")))
			}
			if soonest == "" || days < soonestDays {
				soonest, soonestDays = fmt.Sprintf("%s %s expires in %d days", what, p.ID, days), days
			}
		}
		for st, n := range h.States {
			totals[st] += n
		}
		if n := h.States[store.StateSecretExpired]; n > 0 {
			raise(nagiosCritical, fmt.Sprintf("%s: %d users stopped by the client secret", p.ID, n))
		}
		var needing []string
		for _, st := range monitor.States {
			if n := h.States[st]; n > 0 && monitor.NeedsPerson(st) {
				needing = append(needing, fmt.Sprintf("%d %s", n, st))
			}
		}
		if len(needing) > 0 {
			raise(nagiosWarning, fmt.Sprintf("%s: users need attention: %s", p.ID, strings.Join(needing, ", ")))
		}
	}
	var states []string
	for st := range totals {
		states = append(states, string(st))
	}
	sort.Strings(states)
	for _, st := range states {
		res.Perfdata = append(res.Perfdata, fmt.Sprintf("'users_%s'=%d", strings.ReplaceAll(st, "-", "_"), totals[store.JobState(st)]))
	}
	res.Summary = fmt.Sprintf("%d profile(s), %d user(s) ok", len(ps), totals[store.StateOK])
	if soonest != "" {
		res.Summary += ", " + soonest
	}
	return res
}
