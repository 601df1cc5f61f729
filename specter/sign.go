package specter

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
)

// Credentials are an account's API credentials, issued by Specter. Version 2
// (accounts set up from August 2020, required for multishop) has an API
// user: SBMID, ApiUserKey ("Nyckel"), IntegrationKey ("Nyckel2", the
// integrating vendor's key) and ApiUserId. Version 1 has SBMID, Md5 Key 1 and
// Md5 Key 2. Use V2 or V1 to build them.
type Credentials struct {
	SBMID string // the company (account) id, an integer
	// Version 2.
	APIUserID      string
	APIUserKey     string
	IntegrationKey string
	// Version 1.
	MD5Key1 string
	MD5Key2 string
}

// V2 returns version-2 credentials. apiUserID is optional for accounts with
// a single API user.
func V2(sbmID, apiUserKey, integrationKey, apiUserID string) Credentials {
	return Credentials{SBMID: sbmID, APIUserKey: apiUserKey, IntegrationKey: integrationKey, APIUserID: apiUserID}
}

// V1 returns version-1 credentials.
func V1(sbmID, md5Key1, md5Key2 string) Credentials {
	return Credentials{SBMID: sbmID, MD5Key1: md5Key1, MD5Key2: md5Key2}
}

// Version is 2 when an API user key is set, else 1.
func (c Credentials) Version() int {
	if c.APIUserKey != "" {
		return 2
	}
	return 1
}

// ErrCredentials is returned for incomplete credentials.
var ErrCredentials = errors.New("specter: incomplete credentials")

// Validate checks that the credentials of their version are complete. The
// error names the missing part, never a value.
func (c Credentials) Validate() error {
	var missing []string
	if c.SBMID == "" {
		missing = append(missing, "SBMID")
	}
	if c.Version() == 2 {
		if c.IntegrationKey == "" {
			missing = append(missing, "IntegrationKey")
		}
		if c.MD5Key1 != "" || c.MD5Key2 != "" {
			return errors.New("specter: credentials mix version 1 (Md5 keys) and version 2 (API user key)")
		}
	} else {
		if c.MD5Key1 == "" {
			missing = append(missing, "MD5Key1 (or APIUserKey for version 2)")
		}
		if c.MD5Key2 == "" {
			missing = append(missing, "MD5Key2")
		}
	}
	if len(missing) > 0 {
		return errors.Join(ErrCredentials, errors.New("missing "+strings.Join(missing, ", ")))
	}
	return nil
}

// secrets are the values to scrub from logs and errors.
func (c Credentials) secrets() []string {
	return []string{c.APIUserKey, c.IntegrationKey, c.MD5Key1, c.MD5Key2}
}

// inner and outer are the two secrets of the nested hash: the API user key
// inside and the integration key outside (version 2), Md5 Key 1 inside and
// Md5 Key 2 outside (version 1).
func (c Credentials) inner() string {
	if c.Version() == 2 {
		return c.APIUserKey
	}
	return c.MD5Key1
}

func (c Credentials) outer() string {
	if c.Version() == 2 {
		return c.IntegrationKey
	}
	return c.MD5Key2
}

// Key returns the signature of a request:
//
//	key = md5hex(outer + md5hex(inner + sbmId + X))
//
// where X is the action's signed value (see Spec) as Windows-1252 bytes,
// md5hex is the lower-case hex MD5, inner/outer are ApiUserKey/
// IntegrationKey (v2) or Md5 Key 1/Md5 Key 2 (v1). The v2 formula is
// OBSERVED in the Laravel client, the v1 formula in the Prestaworks
// module; that the secrets and sbmId are concatenated as Windows-1252 bytes
// too is ASSUMED (they are ASCII in practice). The result is a secret: it
// authorises this one request.
func (c Credentials) Key(x []byte) string {
	return Sign(c.inner(), c.outer(), c.SBMID, x)
}

// Sign computes md5hex(outer + md5hex(inner + sbmID + x)), the nested MD5
// both credential versions share. Exported for the fake.
func Sign(inner, outer, sbmID string, x []byte) string {
	h := md5.New()
	h.Write([]byte(inner))
	h.Write([]byte(sbmID))
	h.Write(x)
	in := hex.EncodeToString(h.Sum(nil))
	h.Reset()
	h.Write([]byte(outer))
	h.Write([]byte(in))
	return hex.EncodeToString(h.Sum(nil))
}
