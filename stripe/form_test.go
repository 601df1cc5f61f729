package stripe

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParamsEncode(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		want   string
	}{
		{"empty", Params{}, ""},
		{"scalars sorted", Params{"b": "x y", "a": int64(500), "c": true, "d": 7}, "a=500&b=x+y&c=true&d=7"},
		{"nil left out", Params{"a": nil, "b": "1"}, "b=1"},
		{"empty string kept", Params{"metadata": map[string]string{"gone": ""}}, "metadata[gone]="},
		{"metadata", Params{"metadata": map[string]string{"order": "1001", "ref": "a&b"}}, "metadata[order]=1001&metadata[ref]=a%26b"},
		{"range", Params{"created": Params{"lt": int64(20), "gte": int64(10)}}, "created[gte]=10&created[lt]=20"},
		{"expand", Params{"expand": []string{"data.source", "latest_charge"}}, "expand[]=data.source&expand[]=latest_charge"},
		{"nested any", Params{"a": map[string]any{"b": Params{"c": "d"}}}, "a[b][c]=d"},
		{"indexed objects", Params{"items": []Params{{"price": "p1"}, {"price": "p2", "quantity": 2}}}, "items[0][price]=p1&items[1][price]=p2&items[1][quantity]=2"},
		{"escaped key part", Params{"metadata": map[string]string{"a b": "c"}}, "metadata[a+b]=c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.params.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Encode (-want +got):\n%s", diff)
			}
			// What we encode must decode to the same flat keys.
			dec, err := url.ParseQuery(got)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := tt.params.Values()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(url.Values(vals), dec, cmp.Comparer(func(a, b url.Values) bool { return a.Encode() == b.Encode() })); diff != "" {
				t.Errorf("Values and Encode disagree:\n%s", diff)
			}
		})
	}
}

func TestParamsEncodeRefuses(t *testing.T) {
	for name, p := range map[string]Params{
		"float":               {"amount": 1.5},
		"bracket in key":      {"a[b]": "c"},
		"bracket in map key":  {"metadata": map[string]string{"x]": "y"}},
		"empty key":           {"": "x"},
		"nested bracket key":  {"a": Params{"b[": "c"}},
		"unsupported element": {"a": []int{1}},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := p.Encode(); err == nil {
				t.Errorf("Encode = %q, want an error", s)
			}
			if _, err := p.Values(); err == nil {
				t.Error("Values: no error")
			}
		})
	}
}

func TestParamsEncodeDeterministic(t *testing.T) {
	p := Params{"metadata": map[string]string{"z": "1", "a": "2", "m": "3"}, "amount": int64(1), "expand": []string{"x"}}
	first, _ := p.Encode()
	for range 20 {
		if got, _ := p.Encode(); got != first {
			t.Fatalf("encodings differ: %q and %q", first, got)
		}
	}
}
