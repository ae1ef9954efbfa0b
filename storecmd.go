package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
)

type storeMigrateOptions struct {
	IO   streams
	Data *dataDirFlag
	To   string
}

func newStoreCmd(io streams, data *dataDirFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "store", Short: "Move the store between the data directory's file and etcd", Args: cobra.NoArgs}
	opts := &storeMigrateOptions{IO: io, Data: data}
	migrate := &cobra.Command{
		Use:   "migrate --to etcd|bbolt",
		Short: "Copy the store into etcd, or out of it into the data directory",
		Long: `--to etcd copies the data directory's database into etcd at --etcd under
--etcd-prefix, for several monitors to share; --to bbolt copies the store in
etcd into a new database in the data directory. Everything is copied as it
is stored: sealed values stay sealed under the data directory's modauth.key,
which every monitor on etcd needs a copy of. The destination must be empty;
the source is left as it was. Stop the monitor on the data directory first.`,
		Example: `  modauth store migrate --to etcd --etcd http://10.0.0.5:2379
  modauth store migrate --to bbolt --etcd http://10.0.0.5:2379 --data-dir /var/lib/modauth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStoreMigrate(opts) },
	}
	migrate.Flags().StringVar(&opts.To, "to", "", "where the store goes: etcd or bbolt")
	cmd.AddCommand(migrate)
	return cmd
}

func runStoreMigrate(opts *storeMigrateOptions) error {
	d := opts.Data
	if len(d.etcd) == 0 {
		return fmt.Errorf("%w: `--etcd URL[,URL...]` (or MODAUTH_ETCD) is required: the etcd to migrate to or from", errUsage)
	}
	file := func(mustExist bool) (*store.DB, error) {
		db, err := store.Open(d.path(), store.Options{MustExist: mustExist, Now: d.now})
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w: stop the monitor on %s first", err, d.dir)
		}
		return db, err
	}
	var src, dst *store.DB
	var err error
	switch opts.To {
	case "etcd":
		if src, err = file(true); err != nil {
			return err
		}
		defer src.Close()
		if dst, err = d.openEtcd(false); err != nil {
			return err
		}
	case "bbolt":
		if src, err = d.openEtcd(true); err != nil {
			return err
		}
		defer src.Close()
		if dst, err = file(false); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: --to must be etcd or bbolt, not %q", errUsage, opts.To)
	}
	defer dst.Close()
	n, err := store.Migrate(dst, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Err, "copied %d profile(s), %d user(s) and %d event(s) (%d keys) from %s to %s\n", n.Profiles, n.Users, n.Events, n.Keys, src.Path(), dst.Path())
	if opts.To == "etcd" {
		fmt.Fprintf(opts.IO.Err, "next: copy %s to each monitor's data directory and start them with `modauth monitor --etcd %s`; %s is left as it was: move it aside so that nothing uses it by mistake\n",
			d.keyFile(), strings.Join(d.etcd, ","), d.path())
	}
	return nil
}
