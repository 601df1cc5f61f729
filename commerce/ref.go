package commerce

import (
	"encoding/json"
	"fmt"
)

// Ref identifies an entity in the system it came from: the system's name
// ("shopify", "specter", …), the account or shop within it (multishop), and
// the system's own id. The engine's ID map links Refs across systems; the
// business keys that join them are the SKU for variants and the shop's order
// number for orders.
type Ref struct {
	System  string `json:"system"`
	Account string `json:"account,omitempty"`
	ID      string `json:"id"`
}

// IsZero reports whether r is unset.
func (r Ref) IsZero() bool { return r == Ref{} }

// String formats system/account/id.
func (r Ref) String() string {
	if r.Account == "" {
		return r.System + "/" + r.ID
	}
	return r.System + "/" + r.Account + "/" + r.ID
}

// Validate requires a system and an id.
func (r Ref) Validate() error {
	var v validator
	if r.System == "" {
		v.add("system", "", "missing")
	}
	if r.ID == "" {
		v.add("id", "", "missing")
	}
	return v.err()
}

// Origin is embedded in every entity: where it came from, and optionally the
// payload it was mapped from, so a plugin can reach a field the canonical
// model does not have.
type Origin struct {
	Source Ref             `json:"source,omitzero"`
	Raw    json.RawMessage `json:"raw,omitempty"`
}

// Attribute is an ordered key/value pair (order attributes, product
// metadata); a slice keeps the source's order, which a map would lose.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// checkLineRef validates a line that refers to an order line: it needs a
// SKU or a line id, and a quantity that is positive (shipped, returned) or,
// when zeroOK, at least not negative (a refund of shipping only).
func checkLineRef(v *validator, field, sku, lineID string, qty int, zeroOK bool) {
	if sku == "" && lineID == "" {
		v.add(field+".sku", "", "missing (and no line_id)")
	}
	switch {
	case zeroOK:
		validateQuantity(v, field+".quantity", qty)
	case qty <= 0:
		v.add(field+".quantity", fmt.Sprint(qty), "must be positive")
	}
}

func validateQuantity(v *validator, field string, q int) {
	if q < 0 {
		v.add(field, fmt.Sprint(q), "negative quantity")
	}
}
