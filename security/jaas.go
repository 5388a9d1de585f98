package security

import (
	"fmt"
	"strings"
)

// LoginModule is one entry of a JAAS configuration:
// `name flag key="value" ...;`.
type LoginModule struct {
	Name    string
	Flag    string
	Options map[string]string
}

// Kafka's login modules, by the mechanism they serve.
const (
	PlainLoginModule       = "org.apache.kafka.common.security.plain.PlainLoginModule"
	ScramLoginModule       = "org.apache.kafka.common.security.scram.ScramLoginModule"
	OAuthBearerLoginModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
)

// ParseJAAS parses a sasl.jaas.config value. Like Kafka, the value must
// hold exactly one login module; comments (// and /* */) are allowed and
// option values may be bare words or quoted strings.
func ParseJAAS(s string) (LoginModule, error) {
	mods, err := parseJAASModules(s)
	if err != nil {
		return LoginModule{}, err
	}
	if len(mods) != 1 {
		return LoginModule{}, fmt.Errorf("holds %d login modules; it must hold exactly one", len(mods))
	}
	return mods[0], nil
}

func parseJAASModules(s string) ([]LoginModule, error) {
	t := &jaasTokens{src: s}
	var out []LoginModule
	for {
		tok, err := t.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF {
			return out, nil
		}
		if tok.kind != tokWord {
			return nil, fmt.Errorf("expected a login module class name, found %q", tok.text)
		}
		m := LoginModule{Name: tok.text, Options: map[string]string{}}
		flag, err := t.next()
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(flag.text) {
		case "required", "requisite", "sufficient", "optional":
			if flag.kind != tokWord {
				return nil, fmt.Errorf("login module %s: expected a control flag, found %q", m.Name, flag.text)
			}
			m.Flag = strings.ToLower(flag.text)
		default:
			return nil, fmt.Errorf("login module %s: control flag %q is not one of required, requisite, sufficient, optional", m.Name, flag.text)
		}
		if err := t.options(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
}

// options reads key=value pairs up to the module's closing semicolon.
func (t *jaasTokens) options(m *LoginModule) error {
	for {
		key, err := t.next()
		if err != nil {
			return err
		}
		switch key.kind {
		case tokSemi:
			return nil
		case tokEOF:
			return fmt.Errorf("login module %s: missing the closing ';'", m.Name)
		case tokWord:
		default:
			return fmt.Errorf("login module %s: expected an option name, found %q", m.Name, key.text)
		}
		eq, err := t.next()
		if err != nil {
			return err
		}
		if eq.kind != tokEq {
			return fmt.Errorf("login module %s: option %s needs =value", m.Name, key.text)
		}
		val, err := t.next()
		if err != nil {
			return err
		}
		if val.kind != tokWord && val.kind != tokQuoted {
			return fmt.Errorf("login module %s: option %s has no value", m.Name, key.text)
		}
		if _, dup := m.Options[key.text]; dup {
			return fmt.Errorf("login module %s: option %s appears twice", m.Name, key.text)
		}
		m.Options[key.text] = val.text
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokQuoted
	tokEq
	tokSemi
	tokOther
)

type jaasToken struct {
	kind tokKind
	text string
}

type jaasTokens struct {
	src string
	pos int
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '$' || c >= 0x80
}

func (t *jaasTokens) next() (jaasToken, error) {
	if err := t.skipSpaceAndComments(); err != nil {
		return jaasToken{}, err
	}
	if t.pos >= len(t.src) {
		return jaasToken{kind: tokEOF}, nil
	}
	c := t.src[t.pos]
	switch {
	case c == '=':
		t.pos++
		return jaasToken{tokEq, "="}, nil
	case c == ';':
		t.pos++
		return jaasToken{tokSemi, ";"}, nil
	case c == '"' || c == '\'':
		return t.quoted(c)
	case isWordByte(c):
		start := t.pos
		for t.pos < len(t.src) && isWordByte(t.src[t.pos]) {
			t.pos++
		}
		return jaasToken{tokWord, t.src[start:t.pos]}, nil
	}
	t.pos++
	return jaasToken{tokOther, string(c)}, nil
}

func (t *jaasTokens) quoted(q byte) (jaasToken, error) {
	t.pos++
	var b strings.Builder
	for t.pos < len(t.src) {
		c := t.src[t.pos]
		t.pos++
		switch {
		case c == q:
			return jaasToken{tokQuoted, b.String()}, nil
		case c == '\\' && t.pos < len(t.src):
			b.WriteByte(unescape(t.src[t.pos]))
			t.pos++
		case c == '\n':
			return jaasToken{}, fmt.Errorf("unterminated quoted value")
		default:
			b.WriteByte(c)
		}
	}
	return jaasToken{}, fmt.Errorf("unterminated quoted value")
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}

func (t *jaasTokens) skipSpaceAndComments() error {
	for t.pos < len(t.src) {
		c := t.src[t.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			t.pos++
		case strings.HasPrefix(t.src[t.pos:], "//"):
			if i := strings.IndexByte(t.src[t.pos:], '\n'); i >= 0 {
				t.pos += i + 1
			} else {
				t.pos = len(t.src)
			}
		case strings.HasPrefix(t.src[t.pos:], "/*"):
			i := strings.Index(t.src[t.pos+2:], "*/")
			if i < 0 {
				return fmt.Errorf("unterminated /* comment")
			}
			t.pos += i + 4
		default:
			return nil
		}
	}
	return nil
}
