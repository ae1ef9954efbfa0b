package store

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dump writes every bucket and key with its value as stored, one per line,
// for debugging and for tests that prove no secret is stored in the clear.
// Printable values (the JSON records) are written as text, anything else
// (sealed values, sequence numbers) as base64; keys that are not printable
// are written in hex.
func (db *DB) Dump(w io.Writer) error {
	bw := bufio.NewWriter(w)
	err := db.view(func(tx kvTx) error {
		return tx.ForEach(func(name []byte, b kvBucket) error {
			return dumpBucket(bw, []string{dumpKey(name)}, b)
		})
	})
	if err != nil {
		return fmt.Errorf("dump %s: %w", db.path, err)
	}
	return bw.Flush()
}

func dumpBucket(w *bufio.Writer, path []string, b kvBucket) error {
	prefix := strings.Join(path, "/")
	fmt.Fprintf(w, "%s/\n", prefix)
	if seq := b.Sequence(); seq != 0 {
		fmt.Fprintf(w, "%s/ sequence=%d\n", prefix, seq)
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil { // a nested bucket
			return dumpBucket(w, append(path[:len(path):len(path)], dumpKey(k)), b.Bucket(k))
		}
		_, err := fmt.Fprintf(w, "%s/%s = %s\n", prefix, dumpKey(k), dumpValue(v))
		return err
	})
}

func dumpKey(k []byte) string {
	s := string(k)
	if printable(k) && !strings.ContainsAny(s, `/" `) {
		return s
	}
	if printable(k) {
		return strconv.Quote(s)
	}
	return "0x" + hex.EncodeToString(k)
}

func dumpValue(v []byte) string {
	if printable(v) {
		return string(v)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(v)
}

func printable(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
