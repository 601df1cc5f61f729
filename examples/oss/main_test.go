package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRunGolden(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	err := run([]string{"-sales", "testdata/sales.csv", "-ecb", "testdata/eurofxref.xml", "-quarter", "2026Q3",
		"-vat", "SE 5567 3704 3101", "-out", out}, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"oss-return.csv": "return.golden.csv", "oss-return.json": "return.golden.json"}
	for name, golden := range files {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		check(t, golden, got)
	}
	check(t, "summary.golden.txt", []byte(strings.ReplaceAll(stdout.String(), out, "OUT")))
}

func check(t *testing.T, golden string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, sales, want string
	}{
		{"missing column", "date,country,currency,rate\n", `no "net" column`},
		{"outside quarter", "date,country,currency,rate,net\n2026-04-01,DE,EUR,19,10.00\n", "sales.csv:2: dated 2026-04-01, outside 2026Q3"},
		{"inexact amount", "date,country,currency,rate,net\n2026-07-01,DE,EUR,19,10.001\n", "sales.csv:2: net"},
		{"bad date", "date,country,currency,rate,net\n2026-07-32,DE,EUR,19,10.00\n", "sales.csv:2:"},
		{"missing fx rate", "date,country,currency,rate,net\n2026-07-01,DE,NOK,25,10.00\n", "NOK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run([]string{"-sales", write("sales.csv", tt.sales), "-ecb", "testdata/eurofxref.xml", "-quarter", "2026Q3",
				"-vat", "SE556737043101", "-out", dir}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if err := run([]string{"-sales", "x"}, &bytes.Buffer{}); err == nil {
		t.Error("missing flags accepted")
	}
	if err := run([]string{"-sales", "testdata/sales.csv", "-ecb", "testdata/eurofxref.xml", "-quarter", "2026Q3", "-vat", "SE556737043102", "-out", dir}, &bytes.Buffer{}); err == nil {
		t.Error("a VAT number with a bad check digit was accepted")
	}
}
