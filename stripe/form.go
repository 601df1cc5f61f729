package stripe

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Params is a Stripe request in its nested shape, encoded into Stripe's
// bracket notation for form bodies and query strings:
//
//	Params{"amount": int64(500)}                        amount=500
//	Params{"metadata": map[string]string{"order": "1"}} metadata[order]=1
//	Params{"created": Params{"gte": int64(1)}}          created[gte]=1
//	Params{"expand": []string{"data.source"}}           expand[]=data.source
//	Params{"items": []Params{{"price": "p"}}}           items[0][price]=p
//
// Values may be string, bool, int, int64, Params, map[string]string,
// map[string]any, []string and []Params; nil values are left out. Keys are
// emitted in sorted order so that the same Params always encode to the same
// bytes, which matters because Stripe compares the parameters of a request
// replayed with an idempotency key.
type Params map[string]any

// Encode returns the application/x-www-form-urlencoded body.
func (p Params) Encode() (string, error) {
	pairs, err := p.pairs()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeKey(kv[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[1]))
	}
	return b.String(), nil
}

// Values returns the flattened parameters for a query string.
func (p Params) Values() (url.Values, error) {
	pairs, err := p.pairs()
	if err != nil {
		return nil, err
	}
	v := make(url.Values, len(pairs))
	for _, kv := range pairs {
		v[kv[0]] = append(v[kv[0]], kv[1])
	}
	return v, nil
}

func (p Params) pairs() ([][2]string, error) {
	var out [][2]string
	for _, k := range sortedKeys(p) {
		if k == "" || strings.ContainsAny(k, "[]") {
			return nil, fmt.Errorf("stripe: form: invalid key %q", k)
		}
		var err error
		if out, err = appendValue(out, k, p[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendValue(out [][2]string, key string, v any) ([][2]string, error) {
	switch v := v.(type) {
	case nil:
		return out, nil
	case string:
		return append(out, [2]string{key, v}), nil
	case bool:
		return append(out, [2]string{key, strconv.FormatBool(v)}), nil
	case int:
		return append(out, [2]string{key, strconv.Itoa(v)}), nil
	case int64:
		return append(out, [2]string{key, strconv.FormatInt(v, 10)}), nil
	case Params:
		return appendMap(out, key, v)
	case map[string]any:
		return appendMap(out, key, v)
	case map[string]string:
		for _, k := range sortedKeys(v) {
			if k == "" || strings.ContainsAny(k, "[]") {
				return nil, fmt.Errorf("stripe: form: invalid key %q under %q", k, key)
			}
			out = append(out, [2]string{key + "[" + k + "]", v[k]})
		}
		return out, nil
	case []string:
		for _, s := range v {
			out = append(out, [2]string{key + "[]", s})
		}
		return out, nil
	case []Params:
		for i, p := range v {
			var err error
			if out, err = appendMap(out, key+"["+strconv.Itoa(i)+"]", p); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("stripe: form: unsupported value of type %T for %q", v, key)
}

func appendMap[M ~map[string]any](out [][2]string, key string, m M) ([][2]string, error) {
	for _, k := range sortedKeys(m) {
		if k == "" || strings.ContainsAny(k, "[]") {
			return nil, fmt.Errorf("stripe: form: invalid key %q under %q", k, key)
		}
		var err error
		if out, err = appendValue(out, key+"["+k+"]", m[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// escapeKey escapes a key but keeps its brackets readable, as Stripe's own
// examples send them (expand[]=…, metadata[order]=…); both forms decode to
// the same key.
func escapeKey(k string) string {
	e := url.QueryEscape(k)
	e = strings.ReplaceAll(e, "%5B", "[")
	return strings.ReplaceAll(e, "%5D", "]")
}
