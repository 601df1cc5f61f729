package connector

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// CallOptions are the per-call settings a CallOption changes.
type CallOptions struct {
	// IdempotencyKey makes a write safe to repeat: the system applies it once.
	IdempotencyKey string
	// DryRun asks the connector to validate and map without writing.
	DryRun bool
}

// CallOption overrides a setting for one call.
type CallOption func(*CallOptions)

// WithIdempotencyKey sets the key for one write. Derive it from the business
// event with IdempotencyKey so the same event always gets the same key.
func WithIdempotencyKey(key string) CallOption {
	return func(o *CallOptions) { o.IdempotencyKey = key }
}

// WithDryRun validates and maps without writing.
func WithDryRun() CallOption { return func(o *CallOptions) { o.DryRun = true } }

// ApplyCallOptions folds opts into CallOptions, for connector implementations.
func ApplyCallOptions(opts []CallOption) CallOptions {
	var o CallOptions
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	return o
}

// keyNamespace is the UUID namespace of knyt's idempotency keys
// (a name-based UUID of "knyt.idempotency" in the URL namespace, fixed
// forever: changing it would change every key).
var keyNamespace = [16]byte{0x5c, 0x1d, 0x0b, 0x7e, 0x83, 0x4f, 0x5a, 0x2b, 0x9d, 0x61, 0x0c, 0x3e, 0x47, 0xa8, 0x12, 0xf5}

// IdempotencyKey derives a deterministic key from the parts that identify a
// business event, e.g. ("klarna", "capture", orderNumber, deliveryID). It is
// a UUID version 5 string, which every provider accepts (Klarna recommends
// UUIDs, Stripe allows 255 characters, PayPal 108). The same parts always
// give the same key, so a retry after a crash repeats the key and the
// provider applies the operation once.
func IdempotencyKey(parts ...string) string {
	h := sha1.New()
	h.Write(keyNamespace[:])
	// Length-prefix each part so ("ab","c") and ("a","bc") differ.
	for _, p := range parts {
		var n [4]byte
		l := len(p)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	var b strings.Builder
	enc := hex.EncodeToString(u[:])
	b.WriteString(enc[0:8])
	b.WriteByte('-')
	b.WriteString(enc[8:12])
	b.WriteByte('-')
	b.WriteString(enc[12:16])
	b.WriteByte('-')
	b.WriteString(enc[16:20])
	b.WriteByte('-')
	b.WriteString(enc[20:32])
	return b.String()
}
