package store

import (
	"encoding/binary"
	"fmt"
)

// migrations[v] takes the database from schema v to v+1. Each must be
// idempotent: they run inside the single write transaction of Open, so a
// crash leaves the old version and the next Open runs them again.
var migrations = []func(tx kvTx) error{
	0: migrateV0toV1,
}

// currentSchema is the schema this code writes.
var currentSchema = uint32(len(migrations))

// migrateV0toV1 creates the top-level buckets.
func migrateV0toV1(tx kvTx) error {
	for _, name := range [][]byte{bktMeta, bktProfiles, bktEvents} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// readSchema returns the stored schema version, 0 for a new file.
func readSchema(tx kvTx) (uint32, error) {
	meta := tx.Bucket(bktMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return 0, nil
	}
	if len(v) != 4 {
		return 0, errorf(ErrDamaged, "schema version is damaged (%d bytes)", len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

func checkSchema(path string, v uint32) error {
	if v > currentSchema {
		return errorf(ErrNewerSchema,
			"open %s: database schema v%d is newer than this modauth understands (v%d); upgrade modauth",
			path, v, currentSchema)
	}
	return nil
}

// migrate runs every migration from the stored version up to currentSchema
// and records the new version, all in tx.
func migrate(tx kvTx, path string) error {
	v, err := readSchema(tx)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := checkSchema(path, v); err != nil {
		return err
	}
	if v == currentSchema {
		return nil
	}
	for ; v < currentSchema; v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("migrate %s from schema v%d: %w", path, v, err)
		}
	}
	var buf [4]byte
	binary.BigEndian.PutUint32(buf[:], currentSchema)
	if err := tx.Bucket(bktMeta).Put(keySchema, buf[:]); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	return nil
}
