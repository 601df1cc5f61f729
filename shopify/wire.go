package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/knyt/knyt/commerce"
	"github.com/knyt/knyt/connector"
)

// flexString decodes a JSON string or number as its exact text, for ids
// that Shopify types as UnsignedInt64/BigInt (strings) but that REST-shaped
// payloads send as numbers larger than 2^53.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return fmt.Errorf("not a string or number: %w", err)
	}
	*f = flexString(n.String())
	return nil
}

type moneyV2 struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

type moneyBag struct {
	ShopMoney        moneyV2 `json:"shopMoney"`
	PresentmentMoney moneyV2 `json:"presentmentMoney"`
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// userErrorsErr turns a mutation's userErrors (sent with HTTP 200) into
// one *Error classified by the first error's code; nil when there are none.
func (c *Client) userErrorsErr(op string, errs []userError) error {
	if len(errs) == 0 {
		return nil
	}
	first := errs[0]
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		m := e.Message
		if len(e.Field) > 0 {
			m = strings.Join(e.Field, ".") + ": " + m
		}
		msgs = append(msgs, m)
	}
	return &connector.Error{
		System:  systemName,
		Op:      op,
		Kind:    kindForUserError(first.Code, first.Message),
		Code:    first.Code,
		Field:   strings.Join(first.Field, "."),
		Message: c.gql.Redactor().String(strings.Join(msgs, "; ")),
	}
}

// kindForUserError classifies a userError code: missing things are not
// found, stale or duplicate things conflicts, the rest invalid input.
func kindForUserError(code, message string) connector.Kind {
	if k, ok := idempotencyKinds[code]; ok {
		return k
	}
	switch {
	case code == "":
		if strings.Contains(strings.ToLower(message), "not found") || strings.Contains(strings.ToLower(message), "does not exist") {
			return connector.KindNotFound
		}
		return connector.KindValidation
	case strings.HasSuffix(code, "NOT_FOUND") || strings.HasSuffix(code, "DOES_NOT_EXIST"):
		return connector.KindNotFound
	case strings.Contains(code, "STALE") || strings.HasPrefix(code, "IDEMPOTENCY_") || strings.Contains(code, "DUPLICATE") ||
		strings.Contains(code, "TAKEN") || strings.HasSuffix(code, "NOT_UNIQUE") || code == "ALREADY_EXISTS" ||
		strings.Contains(code, "ALREADY"):
		return connector.KindConflict
	case code == "ACCESS_DENIED" || code == "CAPABILITY_VIOLATION":
		return connector.KindAuth
	case code == "INTERNAL_ERROR" || code == "JOB_ERROR":
		return connector.KindTemporary
	}
	return connector.KindValidation
}

// The error codes Shopify documents for mutations that take @idempotent
// (2026-10: the InventorySetQuantities, InventoryAdjustQuantities …
// UserErrorCode enums; refundCreate's userErrors have no code field, so
// there they can only arrive as errors[].extensions.code):
//   - IDEMPOTENCY_CONCURRENT_REQUEST: a request with the key is still
//     running; the same call later gets its result, so it is retryable;
//   - IDEMPOTENCY_KEY_PARAMETER_MISMATCH: the key was used with other
//     variables: a conflict, fixed only by the caller;
//   - IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED: the call with the key failed
//     and Shopify will not run it again under that key: permanent.
var idempotencyKinds = map[string]connector.Kind{
	"IDEMPOTENCY_CONCURRENT_REQUEST":      connector.KindTemporary,
	"IDEMPOTENCY_KEY_PARAMETER_MISMATCH":  connector.KindConflict,
	"IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED": connector.KindPermanent,
}

// invalid builds the validation error for data Shopify sent that the
// canonical model refuses.
func invalid(op, field string, err error) *connector.Error {
	return &connector.Error{System: systemName, Op: op, Kind: connector.KindValidation, Field: field, Message: "cannot map Shopify's data", Err: err}
}

// parseCurrency reads a CurrencyCode enum value; an unknown value is an
// error, not a guess.
func parseCurrency(code string) (commerce.Currency, error) {
	c, err := commerce.ParseCurrency(code)
	if err != nil {
		return commerce.Currency{}, fmt.Errorf("currency %q: %w", code, err)
	}
	return c, nil
}

// money reads a MoneyV2 exactly: more decimals than the currency has is an
// error (Decimal may carry "29.999").
func (m moneyV2) money() (commerce.Money, error) {
	return commerce.ParseMoney(m.Amount, m.CurrencyCode)
}

// price reads a MoneyV2 that may legitimately carry sub-minor precision
// (unit prices).
func (m moneyV2) price() (commerce.Money, error) {
	return commerce.ParsePrice(m.Amount, m.CurrencyCode)
}

// pick selects the shop or presentment side.
func (b moneyBag) pick(k MoneyKind) moneyV2 {
	if k == PresentmentMoney {
		return b.PresentmentMoney
	}
	return b.ShopMoney
}

// gidNumber is the numeric tail of a GID ("gid://shopify/Order/123" → 123),
// exact beyond 2^53.
func gidNumber(gid string) (*big.Int, bool) {
	s := gid
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if j := strings.IndexByte(s, '?'); j >= 0 {
		s = s[:j]
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok && n.Sign() >= 0
}

// compareIDs orders GIDs numerically (the API sorts ties by id), falling
// back to text for ids without a numeric tail.
func compareIDs(a, b string) int {
	na, oka := gidNumber(a)
	nb, okb := gidNumber(b)
	if oka && okb {
		return na.Cmp(nb)
	}
	return strings.Compare(a, b)
}

// gid builds a GID from a type and a plain numeric id; a value that already
// is a GID is returned as it is.
func gid(typ, id string) string {
	if strings.HasPrefix(id, "gid://") {
		return id
	}
	return "gid://shopify/" + typ + "/" + id
}

// isGIDOf reports whether id is a GID of type typ.
func isGIDOf(id, typ string) bool { return strings.HasPrefix(id, "gid://shopify/"+typ+"/") }

// decimalFromNumber reads a JSON number exactly.
func decimalFromNumber(n json.Number) (decimal.Decimal, error) {
	if n == "" {
		return decimal.Decimal{}, errors.New("missing number")
	}
	return decimal.NewFromString(n.String())
}

// searchValue quotes a value for Shopify's search syntax: inside single
// quotes, with backslashes and quotes escaped, so a SKU cannot change the
// query's meaning.
func searchValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`)
	return "'" + r.Replace(v) + "'"
}
