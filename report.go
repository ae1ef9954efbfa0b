package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// noSyncRow is one user whose sync is broken in the product's export,
// modauth's own checks or the product's own sign-ins, with which of the
// three says so.
type noSyncRow struct {
	Profile   string         `json:"profile"`
	Key       string         `json:"key"`
	Name      string         `json:"name"`
	Account   string         `json:"account"`
	UPN       string         `json:"upn,omitempty"`
	State     store.JobState `json:"state"`
	LastError string         `json:"lastError,omitempty"`
	// ProductSyncID is the product's own sync-id from its export: "" when
	// the export had none for the user, "unknown" when it had no such
	// column.
	ProductSyncID string `json:"productSyncId"`
	// ProductSignIn is the product's own last sign-in for the user: ok,
	// failing with its AADSTS code, none seen, or why it is unknown.
	ProductSignIn string `json:"productSignIn"`
	// Wrong names what is wrong: product export, modauth, product sign-in.
	Wrong []string `json:"wrong"`
	Fix   string   `json:"fix"`
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
		w.Write([]string{"profile", "key", "name", "account", "upn", "state", "last_error", "product_sync_id", "product_sign_in", "wrong", "fix"})
		for _, r := range rows {
			w.Write([]string{r.Profile, r.Key, r.Name, r.Account, r.UPN, string(r.State), r.LastError, r.ProductSyncID, r.ProductSignIn, strings.Join(r.Wrong, "; "), r.Fix})
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tUSER\tACCOUNT\tSTATE\tPRODUCT SIGN-IN\tWRONG\tFIX")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Profile, r.Key, r.Account, r.State, r.ProductSignIn, strings.Join(r.Wrong, ", "), r.Fix)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "%d user(s) whose sync is broken somewhere\n", len(rows))
	return nil
}

// noSyncIDs joins, per user, the product's export (its sync-id column),
// modauth's own checks (a sync-id stored, the job's state) and the
// product's own sign-ins, and lists the users where any of them says the
// sync is broken.
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
		product, unknown, err := productSignIns(db, p)
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
			j := jobs[u.Key]
			if j.State == "" {
				j.State = store.StateNeverSynced
			}
			r := noSyncRow{Profile: p.ID, Key: u.Key, Name: u.Name, Account: u.Account, UPN: u.UPN, State: j.State, ProductSyncID: "unknown", ProductSignIn: unknown}
			if j.LastError != nil {
				r.LastError = j.LastError.Message
			}
			if u.SyncIDImported {
				r.ProductSyncID = u.ProductSyncID
				if u.ProductSyncID == "" {
					r.Wrong = append(r.Wrong, "product export")
				}
			}
			if (total == 0 && keepsSyncIDs(p)) || monitor.Failing(j.State) {
				r.Wrong = append(r.Wrong, "modauth")
				r.Fix = monitor.FixFor(j)
				if j.State == store.StateOK {
					r.Fix = "Synced, but the mailbox holds nothing in the synced folders."
				}
			}
			if unknown == "" {
				r.ProductSignIn = "none seen"
				if ps, ok := product[u.Key]; ok {
					r.ProductSignIn = "ok"
					if f := ps.LastFailure; ps.Failing() {
						r.ProductSignIn = fmt.Sprintf("failing: AADSTS%d", f.Code)
						r.Wrong = append(r.Wrong, "product sign-in")
						r.Fix = cmp.Or(f.Fix, fmt.Sprintf("The product's own sign-in fails (AADSTS%d: %s): sign the user in again from the product.", f.Code, f.Message))
					}
				}
			}
			if len(r.Wrong) > 0 {
				r.Fix = cmp.Or(r.Fix, "The product's export has no sync-id for this user while modauth syncs them: check the user's Exchange account in the product's settings and sync the user from the product.")
				rows = append(rows, r)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// keepsSyncIDs reports whether the profile syncs items (folders through
// Graph, or EWS): one that only sends or proves mail sign-ins keeps none.
func keepsSyncIDs(p store.Profile) bool {
	return len(p.Folders) > 0 || slices.Contains(p.Protocols, store.EWS)
}

// productSignIns are the product's own sign-ins per user, or why they
// are unknown.
func productSignIns(db *store.DB, p store.Profile) (map[string]store.ProductSignIns, string, error) {
	if p.Model == store.AppOnly {
		return nil, "n/a: an app-only product signs in as its app", nil
	}
	if p.Monitor == nil || p.OnPremises {
		return nil, "unknown: no monitoring app", nil
	}
	log, err := db.SignInLog(p.ID)
	switch {
	case err != nil:
		return nil, "", err
	case log.Unavailable != "":
		return nil, "unknown: " + log.Unavailable, nil
	case log.ReadAt.IsZero():
		return nil, "unknown: not read yet", nil
	}
	recs, err := db.ProductSignIns(p.ID)
	return recs, "", err
}
