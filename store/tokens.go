package store

import (
	"fmt"
)

// tokenRecord is what is stored under profiles/<id>/tokens/<key>: the
// token's metadata readable, the refresh token sealed. Token.RefreshToken is
// tagged json:"-", so Meta never carries it; RT is sealed from Reveal().
type tokenRecord struct {
	Meta Token  `json:"meta"`
	RT   []byte `json:"rt,omitempty"` // sealed, base64 in JSON
}

// PutToken stores a user's token, sealing the refresh token to this user's
// record. The user must exist.
func (db *DB) PutToken(profileID, userKey string, t Token) error {
	return db.update(func(tx kvTx) error { return db.putToken(tx, profileID, userKey, t) })
}

func (db *DB) putToken(tx kvTx, profileID, userKey string, t Token) error {
	rec := tokenRecord{Meta: t}
	if !t.RefreshToken.IsZero() {
		rec.RT = db.seal.seal([]byte(t.RefreshToken.Reveal()), tokenPlace(profileID, userKey)...)
	}
	tb, err := userSub(tx, profileID, userKey, bktTokens)
	if err != nil {
		return err
	}
	if err := putJSON(tb, userKey, rec); err != nil {
		return fmt.Errorf("token of user %q in profile %q: %w", userKey, profileID, err)
	}
	return nil
}

// Token returns a user's token with the refresh token unsealed.
func (db *DB) Token(profileID, userKey string) (Token, error) {
	var t Token
	err := db.view(func(tx kvTx) error {
		tb, err := profileSub(tx, profileID, bktTokens)
		if err != nil {
			return err
		}
		data := tb.Get([]byte(userKey))
		if data == nil || userKey == "" {
			return fmt.Errorf("token of user %q in profile %q: %w", userKey, profileID, ErrNotFound)
		}
		t, err = db.openToken(profileID, userKey, data)
		return err
	})
	return t, err
}

// openToken decodes a stored token and unseals its refresh token.
func (db *DB) openToken(profileID, userKey string, data []byte) (Token, error) {
	var rec tokenRecord
	if err := decode(data, &rec); err != nil {
		return Token{}, fmt.Errorf("token of user %q in profile %q: %w", userKey, profileID, err)
	}
	t := rec.Meta
	if rec.RT != nil {
		rt, err := db.seal.open(rec.RT, tokenPlace(profileID, userKey)...)
		if err != nil {
			return Token{}, fmt.Errorf("refresh token of user %q in profile %q: %w", userKey, profileID, err)
		}
		t.RefreshToken = Secret(rt)
		clear(rt)
	}
	return t, nil
}

// DeleteToken removes a user's token, for example after it was revoked.
func (db *DB) DeleteToken(profileID, userKey string) error {
	return db.update(func(tx kvTx) error {
		tb, err := profileSub(tx, profileID, bktTokens)
		if err != nil {
			return err
		}
		if userKey == "" || tb.Get([]byte(userKey)) == nil {
			return fmt.Errorf("token of user %q in profile %q: %w", userKey, profileID, ErrNotFound)
		}
		return tb.Delete([]byte(userKey))
	})
}

func tokenPlace(profileID, userKey string) []string {
	return []string{"profiles", profileID, "tokens", userKey}
}

// TokenMeta returns every user's token metadata in one read, without
// unsealing refresh tokens (RefreshToken stays empty): what a screen that
// shows expiries and ages needs, at a fraction of the cost.
func (db *DB) TokenMeta(profileID string) (map[string]Token, error) {
	out := map[string]Token{}
	err := db.view(func(tx kvTx) error {
		tb, err := profileSub(tx, profileID, bktTokens)
		if err != nil {
			return err
		}
		return tb.ForEach(func(k, v []byte) error { return decodeTokenMeta(profileID, k, v, out) })
	})
	return out, err
}

// TokenMetaOf is TokenMeta for the named users only, in one read: users
// without a stored token are left out.
func (db *DB) TokenMetaOf(profileID string, keys []string) (map[string]Token, error) {
	out := make(map[string]Token, len(keys))
	err := db.view(func(tx kvTx) error {
		tb, err := profileSub(tx, profileID, bktTokens)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if v := tb.Get([]byte(k)); v != nil && k != "" {
				if err := decodeTokenMeta(profileID, []byte(k), v, out); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// decodeTokenMeta puts a stored token's metadata into out, leaving its
// refresh token sealed.
func decodeTokenMeta(profileID string, key, data []byte, out map[string]Token) error {
	var rec tokenRecord
	if err := decode(data, &rec); err != nil {
		return fmt.Errorf("token of user %q in profile %q: %w", key, profileID, err)
	}
	out[string(key)] = rec.Meta
	return nil
}
