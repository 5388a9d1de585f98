package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// printer writes a command's result as aligned text or as JSON.
type printer struct {
	w    io.Writer
	json bool
}

func (a *app) printer(w io.Writer) *printer { return &printer{w: w, json: a.format == "json"} }

// table prints rows under a header, columns aligned with two spaces. When
// the table is wider than the screen (80 columns where the output is not a
// terminal), the elastic columns are shortened in the middle to fit.
func (p *printer) table(header []string, rows [][]string) {
	widths := fitColumns(header, rows, screenWidth(p.w))
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c
			if i < len(widths) {
				cells[i] = cutMiddle(c, widths[i])
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// pairs prints "key: value" lines with the values aligned.
func (p *printer) pairs(kv ...string) {
	tw := tabwriter.NewWriter(p.w, 0, 0, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], kv[i+1])
	}
	tw.Flush()
}

// emitJSON prints v as indented JSON.
func (p *printer) emitJSON(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emitJSONLine prints v as one line of JSON, for streams of records.
func (p *printer) emitJSONLine(v any) error {
	return json.NewEncoder(p.w).Encode(v)
}

// humanBytes prints a size the way people read it: 0 B, 512 B, 1.5 KiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// count prints an integer with thousands separators: 1,234,567.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ints prints a replica list: 1,2,3.
func ints(ns []int32) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(int(n))
	}
	return strings.Join(parts, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
