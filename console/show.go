package console

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"
)

// shownBytes is a key, value or header value as the browser shows it:
// pretty-printed JSON, text, or hex for anything else, cut to
// maxFieldBytes.
type shownBytes struct {
	Encoding  string `json:"encoding"` // json, text or hex
	Text      string `json:"text"`
	Size      int    `json:"size"`
	Truncated bool   `json:"truncated"`
}

func show(b []byte) *shownBytes {
	s := &shownBytes{Size: len(b)}
	switch {
	case len(b) <= maxFieldBytes && json.Valid(b) && looksStructured(b):
		var pretty bytes.Buffer
		if json.Indent(&pretty, b, "", "  ") == nil {
			s.Encoding, s.Text = "json", pretty.String()
			return s
		}
		fallthrough
	case utf8.Valid(b) && printable(b):
		s.Encoding = "text"
		cut := min(len(b), maxFieldBytes)
		for cut > 0 && cut < len(b) && !utf8.RuneStart(b[cut]) {
			cut--
		}
		s.Text, s.Truncated = string(b[:cut]), cut < len(b)
	default:
		s.Encoding = "hex"
		cut := min(len(b), maxFieldBytes/2)
		s.Text, s.Truncated = hex.EncodeToString(b[:cut]), cut < len(b)
	}
	return s
}

// looksStructured keeps bare JSON scalars ("42", "true") shown as text.
func looksStructured(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// printable reports whether text has no control characters other than
// tab, newline and carriage return.
func printable(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// uuidString is how Kafka prints a topic id: URL-safe base64, unpadded.
func uuidString(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }
