package main

import (
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/term"
)

// defaultWidth is the width output keeps to where the screen's is unknown
// (pipes, files, tests).
const defaultWidth = 80

// elastic columns hold long identifiers that can be shortened for the
// screen without losing what tells rows apart (JSON keeps them whole).
// Config values are not among them: a shortened value would mislead.
var elastic = map[string]bool{"MEMBER-ID": true, "CLIENT-ID": true, "HOST": true, "ASSIGNMENT": true}

// minElastic is the narrowest an elastic column gets.
const minElastic = 14

// screenWidth is the terminal's width when w is one, else defaultWidth.
func screenWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return defaultWidth
}

// fitColumns returns each column's width limit: its widest cell, less
// what the elastic columns, widest first, must give up for the table to
// fit in width. It never shrinks a column below minElastic or its header.
func fitColumns(header []string, rows [][]string, width int) []int {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for total > width {
		widest := -1
		for i, h := range header {
			floor := max(minElastic, utf8.RuneCountInString(h))
			if elastic[h] && widths[i] > floor && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
		total--
	}
	return widths
}

// cutMiddle shortens s to n runes, keeping its start and end around an
// ellipsis: member ids differ at their end, client ids at their start.
func cutMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 3 {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
