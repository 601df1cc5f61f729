package flow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseYAML decodes and validates a configuration written in a strict
// subset of YAML 1.2 — enough for configuration files, small enough to be
// parsed without a dependency:
//
//   - block mappings (key: value) and block sequences (- item), nested by
//     indentation with spaces (a tab in indentation is an error), including
//     mappings inside sequence items (- id: se);
//   - scalars: plain, 'single-quoted' (a doubled quote stands for one) and
//     "double-quoted" (\" \\ \n \t \r \/ \uXXXX escapes); one-line flow
//     sequences and mappings of scalars ([a, "b", 3], {token: ENV_NAME});
//   - comments from a # that starts a line or follows a space;
//   - one document, optionally opened by ---.
//
// Plain scalars resolve as YAML 1.2's core schema: null and ~ are null,
// true and false booleans, numbers numbers, everything else a string — so
// NO (Norway) and off stay strings, unlike YAML 1.1. Anchors, aliases,
// tags, block scalars (| and >), complex keys, nested or multi-line flow
// collections and multiple documents are refused with the line they are on. Unknown and
// duplicate keys are errors, as in ParseJSON.
func ParseYAML(b []byte) (*Config, error) {
	v, err := parseYAMLTree(b)
	if err != nil {
		return nil, fmt.Errorf("flow: config: %w", err)
	}
	return fromTree(v)
}

type yamlLine struct {
	no     int    // 1-based line number
	indent int    // leading spaces
	text   string // content after the indentation, not trimmed on the right
}

type yamlParser struct {
	lines []yamlLine
	pos   int
}

type yamlError struct {
	line int
	msg  string
}

func (e *yamlError) Error() string { return fmt.Sprintf("yaml: line %d: %s", e.line, e.msg) }

func yerr(line int, format string, args ...any) error {
	return &yamlError{line: line, msg: fmt.Sprintf(format, args...)}
}

// parseYAMLTree parses the subset into maps, slices and scalars.
func parseYAMLTree(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("yaml: not UTF-8")
	}
	src := strings.TrimPrefix(string(b), "\ufeff")
	p := &yamlParser{}
	started := false
	for i, raw := range strings.Split(src, "\n") {
		no := i + 1
		raw = strings.TrimSuffix(raw, "\r")
		body := strings.TrimLeft(raw, " ")
		indent := len(raw) - len(body)
		if strings.HasPrefix(body, "\t") {
			return nil, yerr(no, "tab in indentation")
		}
		trimmed := strings.TrimSpace(body)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if indent == 0 && (trimmed == "---" || strings.HasPrefix(trimmed, "--- ")) {
			if started || len(p.lines) > 0 {
				return nil, yerr(no, "only one document is supported")
			}
			started = true
			if rest := strings.TrimSpace(strings.TrimPrefix(trimmed, "---")); rest != "" && !strings.HasPrefix(rest, "#") {
				return nil, yerr(no, "content after --- is not supported")
			}
			continue
		}
		if indent == 0 && (trimmed == "..." || strings.HasPrefix(trimmed, "%")) {
			return nil, yerr(no, "directives and document end markers are not supported")
		}
		p.lines = append(p.lines, yamlLine{no: no, indent: indent, text: strings.TrimRight(body, " \t")})
	}
	if len(p.lines) == 0 {
		return map[string]any{}, nil
	}
	first := p.lines[0]
	if first.indent != 0 {
		return nil, yerr(first.no, "the document must start at column 1")
	}
	v, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.lines) {
		l := p.lines[p.pos]
		return nil, yerr(l.no, "unexpected indentation")
	}
	return v, nil
}

func isSeqItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

// block parses the node whose lines start at indent.
func (p *yamlParser) block(indent int) (any, error) {
	l := p.lines[p.pos]
	if isSeqItem(l.text) {
		return p.sequence(indent)
	}
	if _, _, ok, err := splitKey(l); err != nil {
		return nil, err
	} else if ok {
		return p.mapping(indent)
	}
	// A lone scalar as a whole node (only a document or a "- " item can be
	// one; a multi-line plain scalar is not supported).
	p.pos++
	v, err := scalar(l.no, l.text)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
		return nil, yerr(p.lines[p.pos].no, "multi-line scalars are not supported")
	}
	return v, nil
}

// splitKey splits a "key: value" line; ok is false when the line is not a
// mapping entry.
func splitKey(l yamlLine) (key, rest string, ok bool, err error) {
	t := l.text
	if strings.HasPrefix(t, "? ") || t == "?" {
		return "", "", false, yerr(l.no, "complex keys are not supported")
	}
	if t[0] == '"' || t[0] == '\'' {
		k, n, err := quoted(l.no, t)
		if err != nil {
			return "", "", false, err
		}
		after := strings.TrimLeft(t[n:], " ")
		if !strings.HasPrefix(after, ":") {
			return "", "", false, nil
		}
		after = after[1:]
		if after != "" && after[0] != ' ' {
			return "", "", false, yerr(l.no, "a space must follow ':'")
		}
		return k, strings.TrimSpace(after), true, nil
	}
	if strings.ContainsRune("#[]{},&*!|>%@`", rune(t[0])) {
		return "", "", false, nil
	}
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '#' && i > 0 && t[i-1] == ' ':
			return "", "", false, nil // a comment before any ':'
		case t[i] == ':' && (i+1 == len(t) || t[i+1] == ' '):
			key := strings.TrimSpace(t[:i])
			if key == "" {
				return "", "", false, yerr(l.no, "empty key")
			}
			return key, strings.TrimSpace(t[i+1:]), true, nil
		}
	}
	return "", "", false, nil
}

func (p *yamlParser) mapping(indent int) (any, error) {
	m := map[string]any{}
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, yerr(l.no, "unexpected indentation")
		}
		if isSeqItem(l.text) {
			return nil, yerr(l.no, "a list item where a key was expected")
		}
		key, rest, ok, err := splitKey(l)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, yerr(l.no, "expected \"key: value\"")
		}
		if _, dup := m[key]; dup {
			return nil, yerr(l.no, "duplicate key %q", key)
		}
		p.pos++
		if v, done, err := p.inline(l.no, rest); err != nil {
			return nil, err
		} else if done {
			m[key] = v
			continue
		}
		// The value is on the following lines: deeper, or a sequence at
		// the same indentation ("key:\n- a").
		if p.pos < len(p.lines) {
			next := p.lines[p.pos]
			if next.indent > indent || (next.indent == indent && isSeqItem(next.text)) {
				v, err := p.block(next.indent)
				if err != nil {
					return nil, err
				}
				m[key] = v
				continue
			}
		}
		m[key] = nil
	}
	return m, nil
}

func (p *yamlParser) sequence(indent int) (any, error) {
	s := []any{}
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, yerr(l.no, "unexpected indentation")
		}
		if !isSeqItem(l.text) {
			break
		}
		content := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
		if content == "" || strings.HasPrefix(content, "#") {
			p.pos++
			if p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
				v, err := p.block(p.lines[p.pos].indent)
				if err != nil {
					return nil, err
				}
				s = append(s, v)
			} else {
				s = append(s, nil)
			}
			continue
		}
		// Re-read the item's content as a node indented at its column, so
		// "- id: se" continues with keys aligned under "id".
		col := indent + len(l.text) - len(content)
		p.lines[p.pos] = yamlLine{no: l.no, indent: col, text: content}
		if _, _, isKey, err := splitKey(p.lines[p.pos]); err != nil {
			return nil, err
		} else if isKey || isSeqItem(content) {
			v, err := p.block(col)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
			continue
		}
		p.pos++
		v, _, err := p.inline(l.no, content)
		if err != nil {
			return nil, err
		}
		s = append(s, v)
	}
	return s, nil
}

// inline parses a value written on the same line as its key; done is false
// when there is none (the value follows on the next lines).
func (p *yamlParser) inline(no int, rest string) (any, bool, error) {
	if rest == "" || strings.HasPrefix(rest, "#") {
		return nil, false, nil
	}
	v, err := scalar(no, rest)
	return v, true, err
}

// scalar parses a one-line value: quoted, flow collection or plain.
func scalar(no int, t string) (any, error) {
	switch t[0] {
	case '"', '\'':
		s, n, err := quoted(no, t)
		if err != nil {
			return nil, err
		}
		if err := onlyComment(no, t[n:]); err != nil {
			return nil, err
		}
		return s, nil
	case '[':
		return flowSeq(no, t)
	case '{':
		return flowMap(no, t)
	case '&', '*':
		return nil, yerr(no, "anchors and aliases are not supported")
	case '!':
		return nil, yerr(no, "tags are not supported")
	case '|', '>':
		return nil, yerr(no, "block scalars are not supported")
	case '@', '`':
		return nil, yerr(no, "a plain scalar cannot start with %q", t[0])
	}
	if i := strings.Index(t, " #"); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimSpace(t)
	if strings.Contains(t, ": ") || strings.HasSuffix(t, ":") {
		return nil, yerr(no, "nested mapping on one line is not supported")
	}
	return resolvePlain(t), nil
}

func onlyComment(no int, rest string) error {
	rest = strings.TrimLeft(rest, " ")
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return yerr(no, "unexpected text after the value: %q", rest)
	}
	return nil
}

var yamlInt = regexp.MustCompile(`^[-+]?[0-9]+$`)
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain applies the YAML 1.2 core schema to a plain scalar.
func resolvePlain(t string) any {
	switch t {
	case "", "~", "null", "Null", "NULL":
		return nil
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	}
	if yamlInt.MatchString(t) || yamlFloat.MatchString(t) {
		return jsonNumber(t)
	}
	return t
}

// jsonNumber rewrites a YAML number (+1, 08, .5, 1.) as a valid JSON
// number literal.
func jsonNumber(t string) json.Number {
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimLeft(t, "+-")
	mant, exp := t, ""
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant, exp = t[:i], t[i:]
	}
	ip, fp, _ := strings.Cut(mant, ".")
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	n := ip
	if fp != "" {
		n += "." + fp
	}
	if neg {
		n = "-" + n
	}
	return json.Number(n + exp)
}

// quoted parses a quoted scalar at the start of t and returns it with the
// number of bytes it took.
func quoted(no int, t string) (string, int, error) {
	q := t[0]
	var b strings.Builder
	for i := 1; i < len(t); i++ {
		c := t[i]
		if q == '\'' {
			if c == '\'' {
				if i+1 < len(t) && t[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				return b.String(), i + 1, nil
			}
			b.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(t) {
				return "", 0, yerr(no, "unfinished escape")
			}
			i++
			switch t[i] {
			case '"', '\\', '/':
				b.WriteByte(t[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'u':
				if i+4 >= len(t) {
					return "", 0, yerr(no, "short \\u escape")
				}
				r, err := strconv.ParseUint(t[i+1:i+5], 16, 32)
				if err != nil {
					return "", 0, yerr(no, "bad \\u escape")
				}
				b.WriteRune(rune(r))
				i += 4
			default:
				return "", 0, yerr(no, "unsupported escape \\%c", t[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, yerr(no, "unterminated quoted string (multi-line strings are not supported)")
}

// flowSeq parses [a, "b", 3] with scalar items.
func flowSeq(no int, t string) (any, error) {
	out := []any{}
	i := 1
	expectItem := true
	for {
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i >= len(t) {
			return nil, yerr(no, "unterminated [ (multi-line flow sequences are not supported)")
		}
		switch c := t[i]; {
		case c == ']':
			if expectItem && len(out) > 0 {
				return nil, yerr(no, "empty item in flow sequence")
			}
			return out, onlyComment(no, t[i+1:])
		case c == ',':
			if expectItem {
				return nil, yerr(no, "empty item in flow sequence")
			}
			expectItem = true
			i++
		case !expectItem:
			return nil, yerr(no, "expected , or ] in flow sequence")
		case c == '"' || c == '\'':
			s, n, err := quoted(no, t[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			i += n
			expectItem = false
		case c == '[' || c == '{':
			return nil, yerr(no, "nested flow collections are not supported")
		default:
			j := i
			for j < len(t) && t[j] != ',' && t[j] != ']' {
				j++
			}
			item := strings.TrimSpace(t[i:j])
			if strings.ContainsAny(item, "#&*!|>") || strings.Contains(item, ": ") {
				return nil, yerr(no, "unsupported flow item %q", item)
			}
			out = append(out, resolvePlain(item))
			i = j
			expectItem = false
		}
	}
}

// flowMap parses {a: 1, "b": x} with scalar values.
func flowMap(no int, t string) (any, error) {
	out := map[string]any{}
	i := 1
	for {
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i >= len(t) {
			return nil, yerr(no, "unterminated { (multi-line flow mappings are not supported)")
		}
		if t[i] == '}' {
			return out, onlyComment(no, t[i+1:])
		}
		// The key: quoted, or plain up to the ':'.
		var key string
		if t[i] == '"' || t[i] == '\'' {
			k, n, err := quoted(no, t[i:])
			if err != nil {
				return nil, err
			}
			key, i = k, i+n
			for i < len(t) && t[i] == ' ' {
				i++
			}
			if i >= len(t) || t[i] != ':' {
				return nil, yerr(no, "expected ':' after key %q", key)
			}
			i++
		} else {
			j := strings.IndexByte(t[i:], ':')
			if j < 0 {
				return nil, yerr(no, "expected key: value in flow mapping")
			}
			key = strings.TrimSpace(t[i : i+j])
			i += j + 1
		}
		if key == "" || strings.ContainsAny(key, ",[]{}#") {
			return nil, yerr(no, "unsupported key %q in flow mapping", key)
		}
		if _, dup := out[key]; dup {
			return nil, yerr(no, "duplicate key %q", key)
		}
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i < len(t) && (t[i] == '"' || t[i] == '\'') {
			v, n, err := quoted(no, t[i:])
			if err != nil {
				return nil, err
			}
			out[key] = v
			i += n
		} else {
			j := i
			for j < len(t) && t[j] != ',' && t[j] != '}' {
				j++
			}
			item := strings.TrimSpace(t[i:j])
			if strings.ContainsAny(item, "#&*!|>[]{") || strings.Contains(item, ": ") {
				return nil, yerr(no, "unsupported flow value %q", item)
			}
			out[key] = resolvePlain(item)
			i = j
		}
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i < len(t) && t[i] == ',' {
			i++
			continue
		}
		if i >= len(t) || t[i] != '}' {
			return nil, yerr(no, "expected , or } in flow mapping")
		}
	}
}
