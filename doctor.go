package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type doctorOptions struct {
	IO      streams
	Data    *dataDirFlag
	JSON    bool
	Restore bool
	Now     func() time.Time
}

func newDoctorCmd(io streams, data *dataDirFlag) *cobra.Command {
	opts := &doctorOptions{IO: io, Data: data, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the database for damage, and restore the last good backup",
		Long: `Checks the database file page by page (bbolt's own consistency check), then
every record: that it decodes, and that its sealed secrets open with the key file.
Prints what it found per profile and exits 0 when all is sound, 1 when something
is damaged.

With --restore, a damaged database is replaced by the newest backup that checks
sound; the damaged file stays beside it as modauth.db.damaged-<time>. The monitor
and the dashboard back the database up once a day into backups/ in the data
directory and keep the last seven.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDoctor(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the diagnosis as JSON")
	cmd.Flags().BoolVar(&opts.Restore, "restore", false, "replace a damaged database with the newest sound backup")
	return cmd
}

func runDoctor(opts *doctorOptions) error {
	path := opts.Data.path()
	if opts.Restore && opts.Data.shared != nil {
		return fmt.Errorf("doctor --restore replaces the database file, which the running service holds open: stop the service first (`systemctl stop modauth`, or end `modauth monitor`), then run it again")
	}
	d, err := opts.Data.diagnose()
	// A missing file, or a key check that fails, may be damage a backup
	// undoes: a backup is only taken if it opens with the key file.
	restorable := errors.Is(err, store.ErrNoDatabase) || errors.Is(err, store.ErrWrongKey)
	switch {
	case restorable && opts.Restore:
	case errors.Is(err, store.ErrNoDatabase):
		return fmt.Errorf("%w: check --data-dir", err)
	case err != nil:
		return err
	default:
		if err := printDiagnosis(opts, d); err != nil {
			return err
		}
		if d.Healthy() {
			fmt.Fprintf(opts.IO.Err, "database %s is sound\n", path)
			return nil
		}
		if !opts.Restore {
			return fmt.Errorf("database %s is damaged: %s: run `modauth doctor --restore` to restore the newest sound backup from %s",
				path, d.FirstProblem(), store.BackupDir(path))
		}
	}
	r, err := store.Restore(path, opts.Now(), store.Options{})
	for _, s := range r.Skipped {
		fmt.Fprintf(opts.IO.Err, "skipped backup %s\n", s)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "restored %s from %s", path, r.From)
	if r.Kept != "" {
		fmt.Fprintf(opts.IO.Err, "; the damaged file is kept as %s", r.Kept)
	}
	fmt.Fprintln(opts.IO.Err)
	return nil
}

// printDiagnosis writes one row per finding, and one per sound profile,
// to stdout; or the diagnosis as JSON.
func printDiagnosis(opts *doctorOptions, d store.Diagnosis) error {
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WHERE\tSTATE\tDETAIL")
	if len(d.File) == 0 {
		fmt.Fprintln(tw, "file\tok\t")
	}
	for _, f := range d.File {
		fmt.Fprintf(tw, "file\tdamaged\t%s\n", f)
	}
	for _, p := range d.Profiles {
		fmt.Fprintf(tw, "%s\t%s\t%d users, %d tokens, %d jobs, %d items sound\n", p.ID, profileState(p), p.Users, p.Tokens, p.Jobs, p.Items)
		for _, f := range p.Damaged {
			fmt.Fprintf(tw, "%s\tdamaged\t%s\n", p.ID, f)
		}
	}
	return tw.Flush()
}

func profileState(p store.ProfileDiagnosis) string {
	if len(p.Damaged) > 0 {
		return "damaged"
	}
	return "ok"
}
