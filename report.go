package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type reportOptions struct {
	IO      streams
	Data    *dataDirFlag
	Profile string
	Format  string // table, csv, json
}

func newReportCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &reportOptions{IO: io, Data: data}
	var asCSV, asJSON bool
	report := &cobra.Command{Use: "report", Short: "Reports on users and their sync"}
	cmd := &cobra.Command{
		Use:   "no-sync-id",
		Short: "Users who have never synced, and why",
		Long: `Lists the users with no sync-id: nothing of their mailbox was ever synced,
so their sync silently stopped or never started. Each comes with the reason
(their state and last error) and the fix.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asCSV && asJSON {
				return fmt.Errorf("%w: specify only one of `--csv` or `--json`", errUsage)
			}
			opts.Format = "table"
			if asCSV {
				opts.Format = "csv"
			} else if asJSON {
				opts.Format = "json"
			}
			return runNoSyncID(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "one profile (default: all)")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print CSV")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	report.AddCommand(cmd)
	return report
}

// noSyncRow is one user without a sync-id.
type noSyncRow struct {
	Profile   string         `json:"profile"`
	Key       string         `json:"key"`
	Name      string         `json:"name"`
	Account   string         `json:"account"`
	UPN       string         `json:"upn,omitempty"`
	State     store.JobState `json:"state"`
	LastError string         `json:"lastError,omitempty"`
	Fix       string         `json:"fix"`
}

func runNoSyncID(opts *reportOptions) error {
	db, err := opts.Data.open()
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := noSyncIDs(db, opts.Profile)
	if err != nil {
		return err
	}
	switch opts.Format {
	case "json":
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		w := csv.NewWriter(opts.IO.Out)
		w.Write([]string{"profile", "key", "name", "account", "upn", "state", "last_error", "fix"})
		for _, r := range rows {
			w.Write([]string{r.Profile, r.Key, r.Name, r.Account, r.UPN, string(r.State), r.LastError, r.Fix})
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tUSER\tACCOUNT\tSTATE\tFIX")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Profile, r.Key, r.Account, r.State, r.Fix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "%d user(s) without a sync-id\n", len(rows))
	return nil
}

// noSyncIDs finds the users with no synced item at all.
func noSyncIDs(db *store.DB, profileID string) ([]noSyncRow, error) {
	profiles, err := selectProfiles(db, profileID)
	if err != nil {
		return nil, err
	}
	rows := []noSyncRow{}
	for _, p := range profiles {
		jobs, err := db.Jobs(p.ID)
		if err != nil {
			return nil, err
		}
		err = db.ForEachUser(p.ID, func(u store.User) error {
			counts, err := db.CountItems(p.ID, u.Key)
			if err != nil {
				return err
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			if total > 0 {
				return nil
			}
			j := jobs[u.Key]
			if j.State == "" {
				j.State = store.StateNeverSynced
			}
			r := noSyncRow{Profile: p.ID, Key: u.Key, Name: u.Name, Account: u.Account, UPN: u.UPN, State: j.State, Fix: monitor.FixFor(j)}
			if j.State == store.StateOK {
				r.Fix = "Synced, but the mailbox holds nothing in the synced folders."
			}
			if j.LastError != nil {
				r.LastError = j.LastError.Message
			}
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}
