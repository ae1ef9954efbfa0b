package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modauth/modauth/monitor"
	"github.com/modauth/modauth/store"
	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// defaultEtcdPrefix is where a store in etcd lives unless --etcd-prefix
// says otherwise; the cluster's monitors and owners live beside it.
const defaultEtcdPrefix = "/modauth/"

// addEtcdFlags adds --etcd and --etcd-prefix to the root: every command
// then works on the store the monitors share in etcd.
func addEtcdFlags(root *cobra.Command, data *dataDirFlag) {
	var endpoints []string
	if env := os.Getenv("MODAUTH_ETCD"); env != "" {
		endpoints = strings.Split(env, ",")
	}
	prefix := cmp.Or(os.Getenv("MODAUTH_ETCD_PREFIX"), defaultEtcdPrefix)
	root.PersistentFlags().StringSliceVar(&data.etcd, "etcd", endpoints,
		"keep the store in etcd at these client URLs, shared by several monitors (env MODAUTH_ETCD); the sealing key stays in --data-dir")
	root.PersistentFlags().StringVar(&data.etcdPrefix, "etcd-prefix", prefix, "where the store lives in etcd (env MODAUTH_ETCD_PREFIX)")
}

// openEtcd opens the store in etcd, sealed under the data directory's key
// file: the first monitor makes it; copy it to the others' data
// directories. mustExist: the commands that read never create a store.
func (f *dataDirFlag) openEtcd(mustExist bool) (*store.DB, error) {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := store.OpenEtcd(f.etcd, f.etcdPrefix, store.Options{KeyFile: f.keyFile(), Now: f.now, MustExist: mustExist})
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, fmt.Errorf("%w: check --etcd and --etcd-prefix, move a data directory there with `modauth store migrate --to etcd`, or run `modauth --etcd ...` to set up a profile", err)
	}
	return db, err
}

// interfaceOwner limits the sweeps of the interface's own engine: on a
// store in etcd the monitors sweep, and the interface only shows.
func (f *dataDirFlag) interfaceOwner() monitor.Owner {
	if len(f.etcd) > 0 {
		return monitor.Onlooker{}
	}
	return nil
}

// etcdClient is a client of the etcd the store is in, for the cluster's
// own keys: leases, monitors and owners.
func (f *dataDirFlag) etcdClient() (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{Endpoints: f.etcd, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("connect to etcd at %s: %w", strings.Join(f.etcd, ","), err)
	}
	return c, nil
}

// etcdArgs are the flags that put a command run in the service on the
// service's etcd, as --data-dir puts it on its directory.
func (f *dataDirFlag) etcdArgs() []string {
	if len(f.etcd) == 0 {
		return nil
	}
	return []string{"--etcd", strings.Join(f.etcd, ","), "--etcd-prefix", f.etcdPrefix}
}
